import type { ActorResolver, ResolvedActor } from '@atcute/identity-resolver';
import type { ActorIdentifier, Did } from '@atcute/lexicons';
import type { OAuthDiscovery } from '@atcute/oauth-discovery';

import { IdentityResolutionError } from '../errors.ts';
import { fetchAcceptsNoCache } from './fetch-no-cache.ts';

/**
 * resolves what the user typed (a handle or DID) to the account, through the resolver's cache.
 * @throws {IdentityResolutionError} when it cannot; the caller's abort reason when aborted
 */
export const resolveActor = async (
	resolver: ActorResolver,
	identifier: string,
	signal: AbortSignal | undefined,
): Promise<ResolvedActor> => {
	try {
		return await resolver.resolve(identifier as ActorIdentifier, signal ? { signal } : {});
	} catch (err) {
		if (signal?.aborted) throw signal.reason;
		throw new IdentityResolutionError(identifier, { cause: err });
	}
};

/** where an account's identity leads today. */
export interface CurrentIdentity {
	/** the PDS its DID document names. */
	pds: string;
	/** the issuer of the authorization server that PDS names. */
	issuer: string;
}

/**
 * resolves an account's DID afresh (no cache: a handle or PDS may have moved since the last
 * look) to its PDS, and that PDS to its authorization server. done before a session is stored
 * and before each refresh: the tokens must come from the server the account itself names.
 * this is the one place the library asks for an uncached identity.
 * @see https://atproto.com/specs/oauth#authorization-servers
 * @throws {IdentityResolutionError} when the DID cannot be resolved
 * @throws {DiscoveryError} when the PDS's metadata cannot be read
 */
export const resolveIdentityAfresh = async (
	resolver: ActorResolver,
	discovery: OAuthDiscovery,
	did: Did,
): Promise<CurrentIdentity> => {
	let actor: ResolvedActor;
	try {
		// asked only where the runtime's fetch takes `cache: 'no-cache'` (workerd before 2025-08-07
		// rejects it, and the resolver turns noCache into that option)
		actor = await resolver.resolve(did, { noCache: fetchAcceptsNoCache() });
	} catch (err) {
		throw new IdentityResolutionError(did, { cause: err });
	}
	const resolved = await discovery.resolveFromPds(actor.pds, { noCache: true });
	return { pds: resolved.pds, issuer: resolved.authorizationServer.issuer };
};
