import type { DidDocument } from '@atcute/identity';
import type {
	ActorResolver,
	DidDocumentResolver,
	HandleResolver,
	ResolvedActor,
} from '@atcute/identity-resolver';
import type { Did, Handle } from '@atcute/lexicons';
import { DiscoveryError, type OAuthDiscovery, type PdsDiscovery } from '@atcute/oauth-discovery';
import { atprotoDidProblem } from '@atcute-oauth/internal/atproto-names';
import { settleBefore } from '@atcute-oauth/internal/settle-before';

import { IdentityResolutionError, type IdentityResolutionFailure } from '../errors.ts';
import { type AccountIdentifier, isHandle, lowerAscii } from './account-identifier.ts';
import { deadlineSignal } from './deadline-signal.ts';
import { failureDetailOf } from './failure-detail.ts';
import { fetchAcceptsNoCache } from './fetch-no-cache.ts';
import { pdsEndpointOf } from './pds-endpoint.ts';
import { quoted } from './quoted.ts';

/** the account a sign-in goes to: its DID and the PDS its DID document names. */
export interface ResolvedAccount {
	did: Did;
	pds: string;
}

/**
 * resolves what the user typed, read by `parseAccountIdentifier`, to the account, through the
 * resolver's cache, within `timeout` milliseconds whatever the caller's signal says. a handle is
 * verified both ways: the DID it leads to must claim it back.
 * @see https://atproto.com/specs/handle#handle-resolution
 * @throws {IdentityResolutionError} when it cannot (its `cause` a `TimeoutError` past `timeout`);
 *   the caller's abort reason when aborted
 */
export const resolveActor = async (
	resolver: ActorResolver,
	account: AccountIdentifier,
	signal: AbortSignal | undefined,
	timeout: number,
	allowLocalhost: boolean,
): Promise<ResolvedAccount> => {
	// bounded: the handle's host and a did:web host are anyone's servers, reached on what a
	// visitor typed. one that trickles its answer for ever must not hold the sign-in (and the
	// caller's request) with it, even where the caller gave no signal
	const deadline = deadlineSignal(signal, timeout);
	try {
		return await resolveActorWithin(resolver, account, signal, deadline.signal, allowLocalhost);
	} finally {
		deadline.dispose();
	}
};

/** `resolveActor`, every request given up on `bounded` (the caller's `signal` or the deadline). */
const resolveActorWithin = async (
	resolver: ActorResolver,
	account: AccountIdentifier,
	signal: AbortSignal | undefined,
	bounded: AbortSignal,
	allowLocalhost: boolean,
): Promise<ResolvedAccount> => {
	const identifier = account.type === 'handle' ? account.handle : account.did;
	/** what a failed step throws: the caller's abort as it is, else why the identity failed. */
	const failed = (err: unknown): never => {
		if (signal?.aborted) throw signal.reason;
		if (err instanceof IdentityResolutionError) throw err;
		throw new IdentityResolutionError(identifier, {
			cause: err,
			reason: failureOf(err),
			detail: failureDetailOf(err),
		});
	};
	const documents = didDocumentResolverOf(resolver);
	const handles = handleResolverOf(resolver);
	if (account.type === 'handle' && documents !== undefined && handles !== undefined) {
		// the handle's DID, then that DID's own document, read here: the actor resolver would not
		// check that the document is that DID's (its services are not ours to follow before the
		// PAR), and compares the handle it claims as written (handles are case-insensitive)
		let did: Did;
		let document: DidDocument;
		try {
			did = await settleBefore(handles.resolve(account.handle as Handle, { signal: bounded }), bounded);
			// the handle's host chose it: checked before its document is fetched
			checkNamedDid(identifier, did, allowLocalhost);
			document = await settleBefore(
				readDidDocument(documents, did, { noCache: false, signal: bounded }),
				bounded,
			);
		} catch (err) {
			return failed(err);
		}
		if (claimedHandleOf(document) !== account.handle) {
			throw new IdentityResolutionError(identifier, {
				reason: 'handle_mismatch',
				detail: `the DID document of ${did} does not claim this handle`,
			});
		}
		try {
			return { did, pds: pdsOf(document, did) };
		} catch (err) {
			return failed(err);
		}
	}
	if (account.type === 'did' && documents !== undefined) {
		// a DID needs its document alone: the actor resolver would also look up the handle it
		// names, which decides nothing here (signing in by DID is the way round a broken handle),
		// and would not check that the document is this DID's
		try {
			const pds = await settleBefore(
				pdsFromDidDocument(documents, account.did, { noCache: false, signal: bounded }),
				bounded,
			);
			return { did: account.did, pds };
		} catch (err) {
			return failed(err);
		}
	}
	let actor: ResolvedActor;
	try {
		actor = await settleBefore(resolver.resolve(identifier, { signal: bounded }), bounded);
	} catch (err) {
		return failed(err);
	}
	// a resolver that keeps its parts to itself: the DID its handle led to is checked after the
	// fact, but before anything is pushed
	if (account.type === 'handle') checkNamedDid(identifier, actor.did, allowLocalhost);
	// the resolver reports a handle the DID document does not claim as `handle.invalid`. lower-cased
	// as the handle asked for was: Unicode's rules map look-alikes (the Kelvin sign) into ASCII.
	// what is not text (a resolver of the app's own) claims nothing
	const reported: unknown = actor.handle;
	if (
		account.type === 'handle' &&
		(typeof reported !== 'string' || lowerAscii(reported) !== account.handle)
	) {
		let claimed: boolean;
		try {
			claimed = await claimsHandleInOtherCase(resolver, actor.did, account.handle, bounded);
		} catch (err) {
			// the document could not be read again: that says nothing of whose handle it is (a
			// network failure must stay transient, not become a definitive handle_mismatch)
			return failed(err);
		}
		if (claimed) return { did: actor.did, pds: actor.pds };
		throw new IdentityResolutionError(identifier, {
			reason: 'handle_mismatch',
			detail: `the DID document of ${actor.did} does not claim this handle`,
		});
	}
	return { did: actor.did, pds: actor.pds };
};

/**
 * refuses the DID a handle led to unless a visitor could have typed it: an atproto DID in canonical
 * form, a did:web held to the handle's rules (no IP address, no port but on localhost under
 * `allowHttp`). the handle's host chose it, and its document is fetched next.
 * @throws {IdentityResolutionError} `not_found`, naming the handle
 */
const checkNamedDid = (handle: string, did: string, allowLocalhost: boolean): void => {
	const problem = atprotoDidProblem(did, allowLocalhost);
	if (problem !== undefined) {
		throw new IdentityResolutionError(handle, {
			reason: 'not_found',
			detail: `it names ${quoted(did)}, which is no atproto DID: ${problem}`,
		});
	}
};

/**
 * whether the DID document claims `handle` written in other letter case (`at://Alice.example.com`),
 * which `LocalActorResolver` compares as written: handles are case-insensitive. asked only when
 * the resolver found no match, of a resolver that exposes its DID document resolver.
 * @throws what reading the document again threw (the caller reports it as the resolution's failure)
 * @see https://atproto.com/specs/handle#handle-identifier-syntax
 */
const claimsHandleInOtherCase = async (
	resolver: ActorResolver,
	did: Did,
	handle: string,
	signal: AbortSignal,
): Promise<boolean> => {
	const documents = didDocumentResolverOf(resolver);
	if (documents === undefined) return false;
	const document = await settleBefore(documents.resolve(did as never, { signal }), signal);
	return claimedHandleOf(document) === handle;
};

/**
 * the handle a DID document claims, in lower case: the first valid handle among its at://
 * entries (the spec's "first valid handle URI"; `@atcute/identity` takes the first at:// entry,
 * valid or not), or `undefined`.
 * @see https://atproto.com/specs/did#did-documents
 */
const claimedHandleOf = (document: DidDocument): string | undefined => {
	// read as it came: a resolver of the app's own may not have validated the document, and a raw
	// TypeError here would escape the identity's errors. what is not a list claims nothing, and an
	// entry that is not text is no valid handle URI
	const { alsoKnownAs } = document as { alsoKnownAs?: unknown };
	if (!Array.isArray(alsoKnownAs)) return undefined;
	for (const uri of alsoKnownAs) {
		if (typeof uri !== 'string' || !uri.startsWith('at://')) continue;
		const handle = lowerAscii(uri.slice('at://'.length));
		if (isHandle(handle)) return handle;
	}
	return undefined;
};

/** the names of the resolver's errors (`@atcute/identity-resolver`) that no retry mends. */
const PERMANENT_ERRORS: Record<string, IdentityResolutionFailure> = {
	DocumentNotFoundError: 'not_found',
	DidNotFoundError: 'not_found',
	UnsupportedDidMethodError: 'not_found',
	ImproperDidError: 'not_found',
	InvalidResolvedHandleError: 'not_found',
	AmbiguousHandleError: 'not_found',
};

/**
 * whether `err` is a resolver's refusal of a DID document it read whole that no retry mends: over
 * the size cap (`@atcute/util-fetch`'s), refused by the schema (valibot's), or a redirect (which the
 * resolvers do not follow). a body that is not JSON or has another content type is not one: a
 * body cut short without a length, or a front server's error page served with 200, reads so
 * during an outage.
 */
const isBrokenDocument = (err: Error): boolean =>
	BROKEN_DOCUMENT_ERRORS.has(err.name) || (err instanceof TypeError && err.message === 'unexpected redirect');

/** the names of the errors for a DID document that is not a valid one, whatever the network did. */
const BROKEN_DOCUMENT_ERRORS = new Set(['ImproperContentLengthError', 'ValiError']);

/** the reasons an `IdentityResolutionError` gives, of this copy of the package or another. */
const RESOLUTION_FAILURES: ReadonlySet<string> = new Set<IdentityResolutionFailure>([
	'invalid_identifier',
	'not_found',
	'handle_mismatch',
	'invalid_document',
	'refused',
	'unavailable',
]);

/**
 * whether `err` is an `IdentityResolutionError` of any installed copy of this package: by its
 * stable `code` and a `reason` this copy knows, not `instanceof`.
 */
const isIdentityResolutionError = (err: Error): err is IdentityResolutionError => {
	const { code, reason } = err as { code?: unknown; reason?: unknown };
	return code === 'ERR_IDENTITY_RESOLUTION' && typeof reason === 'string' && RESOLUTION_FAILURES.has(reason);
};

/**
 * why a resolution failed, read down its `cause` chain: a missing handle or DID, an unsupported
 * method, a document that names no PDS, is too large, refused by the schema or redirected, or a
 * connection refused on purpose is permanent; a time-out, a network failure, a 5xx or a 429
 * passes, as does anything not known to be permanent (a retry costs less than a lost session).
 */
const failureOf = (error: unknown): IdentityResolutionFailure => {
	// whether a DID document was being read, from the resolver's wrapping error
	let readingDocument = false;
	for (let err = error, depth = 0; err instanceof Error && depth < 8; err = err.cause, depth++) {
		const permanent = PERMANENT_ERRORS[err.name];
		if (permanent !== undefined) return permanent;
		// by its code: the facade's resolvers throw the class of the copy of this package it
		// installed, which need not be the copy this client comes from
		if (isIdentityResolutionError(err)) return err.reason;
		if (err.name === 'FailedDocumentResolutionError') readingDocument = true;
		// the same document comes next time. (not so for a handle: a composite resolver reports the
		// method that failed last, and a well-known redirect can hide a DNS lookup that failed
		// for a moment)
		if (readingDocument && isBrokenDocument(err)) return 'invalid_document';
		// a refusal made on purpose says so (the SSRF guard's PrivateNetworkError): a retry
		// meets the same refusal
		if ((err as { transient?: unknown }).transient === false) return 'refused';
		// `LocalActorResolver`'s own, with no cause: the document names no usable PDS
		if (err.name === 'ActorResolutionError' && err.cause === undefined) return 'invalid_document';
		// `@atcute/util-fetch`'s answer to a status: only 408, 429 and 5xx may pass
		const { status } = err as { status?: unknown };
		if (err.name === 'FailedResponseError' && typeof status === 'number') {
			return status >= 500 || status === 408 || status === 429 ? 'unavailable' : 'not_found';
		}
	}
	return 'unavailable';
};

/** where an account's identity leads today. */
export interface CurrentIdentity {
	/** the PDS its DID document names. */
	pds: string;
	/** the issuer of the authorization server that PDS names. */
	issuer: string;
}

/** options of `resolveIdentityAfresh`. */
export interface ResolveIdentityOptions {
	/** ms the DID's resolution may take in all. */
	timeout: number;
	/**
	 * the issuer the account's session is with: when its PDS names another that cannot be reached,
	 * the identity returned names it all the same (and the caller refuses it).
	 */
	issuer: string;
	/** the caller's signal (the callback's). */
	signal?: AbortSignal | undefined;
}

/**
 * resolves an account's DID afresh (no cache: a handle or PDS may have moved since the last
 * look) to its PDS, and that PDS afresh to the authorization server it names (that server's
 * metadata from the cache, where the discovery holds it). done before a session is stored and
 * before each refresh: the tokens must come from the server the account itself names.
 * this is the one place the library asks for an uncached identity. the DID's resolution may take
 * `timeout` milliseconds in all; the discovery requests have their own. `signal` (the callback's)
 * gives up on both sooner.
 * @see https://atproto.com/specs/oauth#authorization-servers
 * @throws {IdentityResolutionError} when the DID cannot be resolved, its document is another
 *   DID's or names no PDS (`transient` when the failure may pass)
 * @throws {DiscoveryError} when the PDS's metadata cannot be read
 * @throws the caller's abort reason when `caller` aborts
 */
export const resolveIdentityAfresh = async (
	resolver: ActorResolver,
	discovery: OAuthDiscovery,
	did: Did,
	{ timeout, issuer, signal: caller }: ResolveIdentityOptions,
): Promise<CurrentIdentity> => {
	// asked only where the runtime's fetch takes `cache: 'no-cache'` (workerd before 2025-08-07
	// rejects it, and the resolver turns noCache into that option)
	const noCache = fetchAcceptsNoCache();
	// bounded: this runs in the callback and inside a refresh's lock, and a did:web host is
	// anyone's server. one that answers slowly for ever must not hold the account's lock with it
	const deadline = deadlineSignal(caller, timeout);
	const { signal } = deadline;
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
		// the caller's abort is its own, not a failure of the identity
		if (caller?.aborted) throw caller.reason;
		if (err instanceof IdentityResolutionError) throw err;
		throw new IdentityResolutionError(did, {
			cause: err,
			reason: failureOf(err),
			detail: failureDetailOf(err),
		});
	} finally {
		deadline.dispose();
	}
	const protectedResource = await discovery.resolveProtectedResource(pds, { noCache: true, signal: caller });
	let resolved: PdsDiscovery;
	try {
		// the issuer the PDS names is read afresh above; that server's own metadata may come from
		// the cache (the callback's code exchange or the refresh's agent read it moments ago). its
		// `issuer` equals the URL it was fetched from, checked when it was, so a fresh copy would
		// prove nothing more, and a server slow to send it again would fail a sign-in whose code
		// was already spent. (a cached copy that disowns the PDS is checked afresh by the discovery)
		resolved = await discovery.resolveFromProtectedResource(pds, protectedResource, { signal: caller });
	} catch (err) {
		// the PDS names another issuer (an origin, as the metadata's checks require) that cannot be
		// reached: the account left the session's server all the same (else the session would be
		// kept, its refreshes failing as transient, for as long as an unrelated server is down). one
		// that answers and disowns the PDS (a PDS misconfigured for a while) is thrown as before
		const named = protectedResource.authorization_servers[0];
		if (named !== issuer && err instanceof DiscoveryError && err.transient) {
			return { pds: new URL(pds).origin, issuer: named };
		}
		throw err;
	}
	return { pds: resolved.pds, issuer: resolved.authorizationServer.issuer };
};

/** the resolver's DID document resolver, where it exposes one (`LocalActorResolver` does). */
const didDocumentResolverOf = (resolver: ActorResolver): DidDocumentResolver | undefined => {
	const documents = (resolver as { didDocumentResolver?: Partial<DidDocumentResolver> }).didDocumentResolver;
	return typeof documents?.resolve === 'function' ? (documents as DidDocumentResolver) : undefined;
};

/** the resolver's handle resolver, where it exposes one (`LocalActorResolver` does). */
const handleResolverOf = (resolver: ActorResolver): HandleResolver | undefined => {
	const handles = (resolver as { handleResolver?: Partial<HandleResolver> }).handleResolver;
	return typeof handles?.resolve === 'function' ? (handles as HandleResolver) : undefined;
};

/**
 * `did`'s DID document, checked to be that DID's own.
 * @throws {IdentityResolutionError} `invalid_document` when it is another DID's; what the
 *   resolver threw
 */
const readDidDocument = async (
	documents: DidDocumentResolver,
	did: Did,
	options: { noCache: boolean; signal: AbortSignal },
): Promise<DidDocument> => {
	const document = await documents.resolve(did as Parameters<DidDocumentResolver['resolve']>[0], options);
	// a document served for this DID must be this DID's: its services are not ours to follow
	if (document.id !== did) {
		throw new IdentityResolutionError(did, {
			reason: 'invalid_document',
			detail: `the DID document is for ${JSON.stringify(document.id)}`,
		});
	}
	return document;
};

/**
 * the PDS a DID document names, read from the document alone: the issuer check needs DID → PDS
 * only, and the actor resolver would also verify the handle (one more request that decides nothing).
 */
const pdsFromDidDocument = async (
	documents: DidDocumentResolver,
	did: Did,
	options: { noCache: boolean; signal: AbortSignal },
): Promise<string> => pdsOf(await readDidDocument(documents, did, options), did);

/**
 * the PDS `did`'s document names, in the form the actor resolver gives (so it compares equal to a
 * stored `aud`).
 * @throws {IdentityResolutionError} `invalid_document` when it names none
 */
const pdsOf = (document: DidDocument, did: Did): string => {
	const endpoint = pdsEndpointOf(document);
	if (endpoint === undefined) {
		throw new IdentityResolutionError(did, {
			reason: 'invalid_document',
			detail: 'the DID document names no PDS',
		});
	}
	return new URL(endpoint).href;
};
