import type { AuthorizationServerMetadata } from '@atcute/oauth-discovery';
import type { DpopKey, DpopNonceCache, FetchFunction, ServerClocks } from '@atcute/oauth-dpop';
import type { PrivateKey } from '@atcute/oauth-keys';

import { AuthorizationServerAgent } from './authorization-server-agent.ts';

/** what every agent of one client shares. */
export interface AgentFactoryOptions {
	clientId: string;
	nonces: DpopNonceCache;
	fetch: FetchFunction;
	now: () => number;
	/** the clock each server's proofs and assertions are stamped with. */
	clocks: ServerClocks;
	/** the time limit for each request, in milliseconds. */
	timeout: number;
	/** refuse a successful token response without a `DPoP-Nonce` header. */
	requireDpopNonce: boolean;
}

/** makes the agent for one server, client key (absent for a loopback client) and DPoP key. */
export type CreateAgent = (
	server: AuthorizationServerMetadata,
	clientKey: PrivateKey | undefined,
	dpopKey: DpopKey,
) => AuthorizationServerAgent;

/** the one place an `AuthorizationServerAgent` is built: the client's shared settings, bound once. */
export const createAgentFactory = (options: AgentFactoryOptions): CreateAgent => {
	return (server, clientKey, dpopKey) =>
		new AuthorizationServerAgent({ ...options, server, clientKey, dpopKey });
};
