import type { Did } from '@atcute/lexicons';

import type { SessionDeletedCause } from './session-events.ts';

/**
 * what `OAuthTracer.trace` wraps: a sign-in's two halves, a refresh, one `handle()` call to the
 * PDS, or a sign-out.
 */
export type TraceOperation = 'authorize' | 'callback' | 'refresh' | 'request' | 'revoke';

/** the context of an `authorize()` call. the library fills `issuer` once it is known. */
export interface AuthorizeTraceContext {
	/**
	 * the `client_id` of the client the operation is of: tracing channels (and a tracer given to
	 * several clients) are shared by every client of the process, two apps or staging beside
	 * production among them. set by the client before the tracer is called.
	 */
	clientId?: string | undefined;
	/** what the sign-in started from. */
	target: 'account' | 'pds';
	/** the handle or DID the user typed, for an account target: trimmed, at most 256 characters. */
	identifier?: string | undefined;
	/** the PDS or entryway URL, for a pds target: its origin and path only (no credentials or query), at most 512 characters. */
	serviceUrl?: string | undefined;
	/** the authorization server's issuer, once resolved. */
	issuer?: string | undefined;
}

/** the context of a `callback()` call. the library fills `issuer` and `sub` as they are checked. */
export interface CallbackTraceContext {
	/**
	 * the `client_id` of the client the operation is of: tracing channels (and a tracer given to
	 * several clients) are shared by every client of the process, two apps or staging beside
	 * production among them. set by the client before the tracer is called.
	 */
	clientId?: string | undefined;
	/** the issuer the sign-in was sent to, once the state is taken. */
	issuer?: string | undefined;
	/** the account that signed in, once it is checked (its identity leads to this issuer). */
	sub?: Did | undefined;
}

/** the context of a refresh. */
export interface RefreshTraceContext {
	/**
	 * the `client_id` of the client the operation is of: tracing channels (and a tracer given to
	 * several clients) are shared by every client of the process, two apps or staging beside
	 * production among them. set by the client before the tracer is called.
	 */
	clientId?: string | undefined;
	/** the account. */
	sub: Did;
	/** the session's issuer, once the session is read. */
	issuer?: string | undefined;
	/**
	 * `true` when no token request was made: another holder of the lock (a process, or an earlier
	 * refresh) had stored fresh tokens meanwhile, and the session took those.
	 */
	adopted?: boolean | undefined;
	/**
	 * `true` when no token request was made because the PDS refused tokens it had already refused
	 * on their arrival, less than 30 s ago (`TokenSet.refused_on_arrival`): the request is answered
	 * with the PDS's 401, and the session is kept.
	 */
	withheld?: boolean | undefined;
	/**
	 * `true` when no token request was made because an earlier refresh of this account was turned
	 * away with a `Retry-After` that has not passed: the refresh fails with `OAuthTransientError`.
	 */
	waitingOnRetryAfter?: boolean | undefined;
	/**
	 * why the refresh failed for good (`'invalid_grant'`, say), when it then found a session another
	 * holder had stored meanwhile (a lock lost while it ran) and took that up instead of ending the
	 * session: the refresh resolves with it. never one of the same grant after `invalid_grant`,
	 * which may have ended with it.
	 */
	adoptedAfter?: SessionDeletedCause | undefined;
	/**
	 * `true` when the lock was found lost (see `LockFunction`): before the refresh token went out
	 * (nothing was sent then, and the lock was taken again), or before its answer was stored (stored
	 * only over the session the refresh read; see `supersededWhileLockLost`).
	 */
	lockLost?: boolean | undefined;
	/**
	 * `true` when, the lock lost while the token request ran, the store was found to hold another
	 * session than the one the refresh read: the new tokens were revoked, not stored, and the
	 * stored session handed back (or its absence reported).
	 */
	supersededWhileLockLost?: boolean | undefined;
}

/**
 * the context of one `handle()` call a session makes to its PDS (the requests it sends for it: a
 * nonce retry, a nonce probe, a refresh-and-retry, redirects). the library fills `status`, the
 * final answer's.
 */
export interface RequestTraceContext {
	/**
	 * the `client_id` of the client the operation is of: tracing channels (and a tracer given to
	 * several clients) are shared by every client of the process, two apps or staging beside
	 * production among them. set by the client before the tracer is called.
	 */
	clientId?: string | undefined;
	/** the account. */
	sub: Did;
	/** the HTTP method. */
	method: string;
	/**
	 * the PDS origin: the session's when the request starts, then the one it was sent to (a
	 * refresh on the way may have moved the account to another PDS).
	 */
	origin: string;
	/** the path, without the query (which may carry the app's data), cut to 512 characters. */
	pathname: string;
	/** the response status, once answered. */
	status?: number | undefined;
	/**
	 * how far the PDS's clock reads from ours, in milliseconds (its clock minus ours), once answered,
	 * when it refused a proof stamped on ours and its proofs are stamped on its own clock since (see
	 * "Servers whose clock differs from ours"); absent while they are stamped on ours. the same
	 * large offset at every server says our clock is off.
	 */
	serverClockOffsetMs?: number | undefined;
}

/**
 * the context of a sign-out: `OAuthClient.revoke()` or `OAuthSession.signOut()`. the library fills
 * `issuer` and `revokedAtServer` once the stored session is read and its tokens sent for revocation.
 */
export interface RevokeTraceContext {
	/**
	 * the `client_id` of the client the operation is of: tracing channels (and a tracer given to
	 * several clients) are shared by every client of the process, two apps or staging beside
	 * production among them. set by the client before the tracer is called.
	 */
	clientId?: string | undefined;
	/** the account. */
	sub: Did;
	/** `'revoked'` for `OAuthClient.revoke()`, `'signed_out'` for `OAuthSession.signOut()`. */
	cause: 'revoked' | 'signed_out';
	/** the issuer of the stored session, once read; absent when none of this client's was stored. */
	issuer?: string | undefined;
	/**
	 * whether the authorization server confirmed the stored session's grant ended, once asked
	 * (within 5 s); absent when no stored session of this client was found.
	 */
	revokedAtServer?: boolean | undefined;
}

/** the context object of each operation. */
export interface TraceContexts {
	/** the context of an `authorize()` call. */
	authorize: AuthorizeTraceContext;
	/** the context of a `callback()` call. */
	callback: CallbackTraceContext;
	/** the context of a token refresh. */
	refresh: RefreshTraceContext;
	/** the context of one `handle()` call to the PDS. */
	request: RequestTraceContext;
	/** the context of a sign-out. */
	revoke: RevokeTraceContext;
}

/**
 * an instrumentation hook: `trace` runs `fn` and returns (or throws) what it does, and may
 * observe it meanwhile. contexts never hold a token, code, verifier or key; the library adds
 * fields to them as the operation advances. `fn`'s result holds secrets (sessions, responses):
 * an implementation must not publish it.
 */
export interface OAuthTracer {
	/**
	 * runs `fn`, the whole of `operation`, and returns (or throws) what it does; `context` describes
	 * it, and gains fields until `fn` settles. once `fn` has run, the call's outcome is its own
	 * whatever this returns or throws; `fn` runs once however often it is called, and not after
	 * this has settled.
	 */
	trace<O extends TraceOperation, T>(
		operation: O,
		context: TraceContexts[O],
		fn: () => Promise<T>,
	): Promise<T>;
	/**
	 * whether anyone observes `operation` now; optional (absent: always). when it returns false
	 * for `request`, a session sends without building a context or calling `trace`, which saves
	 * a URL parse and a closure on every PDS call.
	 */
	isTracing?(operation: TraceOperation): boolean;
}
