import type { CreateAccountOptions } from './accounts.ts';
import type { AuthorizeOptions } from './authorize.ts';
import type { TestServerBehaviour } from './behaviour.ts';
import type { TestServerStats } from './stats.ts';
import type { SessionInfo } from './token-store.ts';

/** a running PLC directory, PDS and authorization server on 127.0.0.1, each on its own port. */
export interface TestOAuthServer {
	/** the PLC directory origin, e.g. `http://127.0.0.1:41234` (no trailing slash). */
	readonly plcUrl: string;
	/** the PDS origin (the protected resource). */
	readonly pdsUrl: string;
	/** the authorization server origin: its issuer identifier. */
	readonly issuer: string;
	/** misbehaviour switches; set fields directly, `reset()` clears them. */
	readonly behaviour: TestServerBehaviour;
	/** counters and logs; `reset()` zeroes them in place. */
	readonly stats: TestServerStats;
	/** the nonces the authorization server and the PDS currently demand. */
	readonly nonces: { readonly as: string; readonly pds: string };

	/** creates an account whose DID document the PLC directory serves and whose handle the PDS resolves. */
	createAccount(options: CreateAccountOptions): { did: string; handle: string };
	/** changes an account's handle or PDS endpoint (its DID document follows). */
	updateAccount(did: string, patch: { handle?: string | undefined; pdsEndpoint?: string | undefined }): void;
	/** removes an account: its DID document is gone (404). */
	deleteAccount(did: string): void;

	/** serves a client metadata document (as `oauth.metadata` gives it); registering again replaces it. */
	registerClient(metadata: object): void;
	/** forgets a client's metadata document. */
	unregisterClient(clientId: string): void;

	/**
	 * plays the user's browser on an authorization URL: signs in as `did` and consents (or denies),
	 * then returns the parameters of the redirect to the client (`iss`, `state`, `code` or `error`).
	 */
	authorize(authorizationUrl: string | URL, options: AuthorizeOptions): Promise<URLSearchParams>;

	/** switches the authorization server and PDS (or only one) to a new DPoP nonce. */
	rotateNonce(server?: 'as' | 'pds'): void;
	/** makes the current access tokens (of one DID, or all) expired. */
	expireAccessTokens(did?: string): void;
	/** ends every session of a DID (as if revoked server-side); returns how many were active. */
	revokeAllTokensFor(did: string, reason?: string): number;
	/** the sessions (token families), of one DID or all; with `active: true` only those not revoked. */
	sessions(did?: string, options?: { active?: boolean }): SessionInfo[];

	/** throws an error listing `stats.rejections` when there is any. */
	assertNoRejections(): void;
	/** turns off every behaviour switch and zeroes the stats (accounts, clients and tokens stay). */
	reset(): void;
	/** closes the three servers and every open socket. */
	close(): Promise<void>;
}
