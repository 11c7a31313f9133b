import type { ActorResolver, DidDocumentResolver, ResolvedActor } from '@atcute/identity-resolver';
import type { ActorIdentifier, Did } from '@atcute/lexicons';
import type { OAuthDiscovery } from '@atcute/oauth-discovery';

import { IdentityResolutionError } from '../errors.ts';
import { fetchAcceptsNoCache } from './fetch-no-cache.ts';
import { pdsEndpointOf } from './pds-endpoint.ts';
import { settleBefore } from './settle-before.ts';

/**
 * resolves what the user typed (a handle or DID) to the account, through the resolver's cache,
 * within `timeout` milliseconds whatever the caller's signal says.
 * @throws {IdentityResolutionError} when it cannot (its `cause` a `TimeoutError` past `timeout`);
 *   the caller's abort reason when aborted
 */
export const resolveActor = async (
	resolver: ActorResolver,
	identifier: string,
	signal: AbortSignal | undefined,
	timeout: number,
): Promise<ResolvedActor> => {
	// bounded: the handle's host and a did:web host are anyone's servers, reached on what a
	// visitor typed. one that trickles its answer for ever must not hold the sign-in (and the
	// caller's request) with it, even where the caller gave no signal
	const deadline = AbortSignal.timeout(timeout);
	const bounded = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
	try {
		return await settleBefore(resolver.resolve(identifier as ActorIdentifier, { signal: bounded }), bounded);
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
 * this is the one place the library asks for an uncached identity. the DID's resolution may take
 * `timeout` milliseconds in all; the discovery requests have their own.
 * @see https://atproto.com/specs/oauth#authorization-servers
 * @throws {IdentityResolutionError} when the DID cannot be resolved
 * @throws {DiscoveryError} when the PDS's metadata cannot be read
 */
export const resolveIdentityAfresh = async (
	resolver: ActorResolver,
	discovery: OAuthDiscovery,
	did: Did,
	timeout: number,
): Promise<CurrentIdentity> => {
	// asked only where the runtime's fetch takes `cache: 'no-cache'` (workerd before 2025-08-07
	// rejects it, and the resolver turns noCache into that option)
	const noCache = fetchAcceptsNoCache();
	// bounded: this runs in the callback and inside a refresh's lock, and a did:web host is
	// anyone's server. one that answers slowly for ever must not hold the account's lock with it
	const signal = AbortSignal.timeout(timeout);
	let pds: string;
	try {
		const documents = didDocumentResolverOf(resolver);
		pds = await settleBefore(
			documents !== undefined
				? pdsFromDidDocument(documents, did, { noCache, signal })
				: resolver.resolve(did, { noCache, signal }).then((actor) => actor.pds),
			signal,
		);
	} catch (err) {
		throw new IdentityResolutionError(did, { cause: err });
	}
	const resolved = await discovery.resolveFromPds(pds, { noCache: true });
	return { pds: resolved.pds, issuer: resolved.authorizationServer.issuer };
};

/** the resolver's DID document resolver, where it exposes one (`LocalActorResolver` does). */
const didDocumentResolverOf = (resolver: ActorResolver): DidDocumentResolver | undefined => {
	const documents = (resolver as { didDocumentResolver?: Partial<DidDocumentResolver> }).didDocumentResolver;
	return typeof documents?.resolve === 'function' ? (documents as DidDocumentResolver) : undefined;
};

/**
 * the PDS a DID document names, read from the document alone: the issuer check needs DID → PDS
 * only, and the actor resolver would also verify the handle (one more request that decides nothing).
 */
const pdsFromDidDocument = async (
	documents: DidDocumentResolver,
	did: Did,
	options: { noCache: boolean; signal: AbortSignal },
): Promise<string> => {
	const endpoint = pdsEndpointOf(
		await documents.resolve(did as Parameters<DidDocumentResolver['resolve']>[0], options),
	);
	if (endpoint === undefined) throw new Error('the DID document names no PDS');
	// the same form the actor resolver gives, so it compares equal to a stored `aud`
	return new URL(endpoint).href;
};
