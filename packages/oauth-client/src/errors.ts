import type { Did } from '@atcute/lexicons';

import { quoted } from './internal/quoted.ts';

/** the stable `code` of every error class of this package; one per class. */
export type OAuthClientErrorCode =
	/** `OAuthCallbackError`: the authorization callback was refused or failed a check. */
	| 'ERR_OAUTH_CALLBACK'
	/** `OAuthResponseError`: the authorization server answered with an OAuth error. */
	| 'ERR_OAUTH_RESPONSE'
	/** `OAuthTransientError`: a passing failure (network, time-out, 5xx, 429, identity unavailable). */
	| 'ERR_OAUTH_TRANSIENT'
	/** `InvalidResponseError`: a server's answer was not a valid OAuth response. */
	| 'ERR_INVALID_RESPONSE'
	/** `TokenRefreshError`: the session ended at a refresh; see `reason`. */
	| 'ERR_TOKEN_REFRESH'
	/** `SessionNotFoundError`: no stored session for the account. */
	| 'ERR_SESSION_NOT_FOUND'
	/** `UnreadableSessionError`: the stored session lacks what the client needs; it is kept. */
	| 'ERR_UNREADABLE_SESSION'
	/** `AuthMethodUnsatisfiableError`: the session's key left the keyset, or was replaced under its kid. */
	| 'ERR_AUTH_METHOD_UNSATISFIABLE'
	/** `IdentityMismatchError`: the account or its issuer is not the one expected. */
	| 'ERR_IDENTITY_MISMATCH'
	/** `IdentityResolutionError`: a handle or DID could not be resolved. */
	| 'ERR_IDENTITY_RESOLUTION'
	/** `LockTimeoutError`: the refresh lock was not acquired in time. */
	| 'ERR_LOCK_TIMEOUT'
	/** `LockUnavailableError`: a distributed lock's backend could not be reached while acquiring. */
	| 'ERR_LOCK_UNAVAILABLE'
	/** `ClientClosedError`: the client was closed (`close()`); the operation was refused. */
	| 'ERR_CLIENT_CLOSED';

/** the authorization errors that say the server cannot answer for now (RFC 6749 §4.1.2.1). */
const TRANSIENT_CALLBACK_ERRORS: ReadonlySet<string> = new Set(['temporarily_unavailable', 'server_error']);

/**
 * the authorization callback failed: the server sent an error (`access_denied` when the user
 * declined, or the server refused the sign-in for another reason: an expired request, a deactivated
 * account, among others; see `errorDescription`), or the callback did not pass our checks. `error` is the server's OAuth error code,
 * or one of ours: `duplicate_parameter` (`code`, `state`, `iss` or `error` given twice),
 * `invalid_request` (an empty `error`), `missing_state`, `invalid_state` (unknown, already used, or
 * of a shape no client issues),
 * `expired_state`, `missing_iss`, `issuer_mismatch`, `missing_code`.
 */
export class OAuthCallbackError extends Error {
	override name = 'OAuthCallbackError';
	/** stable code: `ERR_OAUTH_CALLBACK`. */
	readonly code = 'ERR_OAUTH_CALLBACK' as const;
	/**
	 * whether a new sign-in may work later: true for the server's `temporarily_unavailable` and
	 * `server_error` (RFC 6749 §4.1.2.1: it could not handle the request for now), false otherwise.
	 * the state is spent either way: the way on is a new `authorize()`.
	 */
	readonly transient: boolean;

	constructor(
		/** the OAuth error code. */
		readonly error: string,
		/** the server's `error_description`, or ours. */
		readonly errorDescription?: string | undefined,
		/** the app state given to `authorize()`, when the callback's state was ours. */
		readonly state?: unknown,
		options?: ErrorOptions,
	) {
		// the server's words, or a forged link's (anyone holding a state can edit the redirect): the
		// message is one line of bounded length, the fields keep them as they came
		super(
			errorDescription === undefined ? quoted(error) : `${quoted(error)}: ${quoted(errorDescription)}`,
			options,
		);
		this.transient = TRANSIENT_CALLBACK_ERRORS.has(error);
	}
}

/**
 * the authorization server refused a request with an OAuth error response (RFC 6749 §5.2):
 * a 4xx with `error`, such as `invalid_grant` or `invalid_client`.
 */
export class OAuthResponseError extends Error {
	override name = 'OAuthResponseError';
	/** stable code: `ERR_OAUTH_RESPONSE`. */
	readonly code = 'ERR_OAUTH_RESPONSE' as const;

	constructor(
		/** which endpoint answered: `par`, `token`, `revocation`. */
		readonly endpoint: string,
		/** the HTTP status. */
		readonly status: number,
		/** the OAuth error code (`unknown_error` when the body had none). */
		readonly error: string,
		/** the server's `error_description`. */
		readonly errorDescription?: string | undefined,
		/** the endpoint's URL (origin and path), which the message names. */
		readonly url?: string | undefined,
	) {
		// the server's words: any server's, an attacker's own among them (they sign in to the app with
		// an account there). the message is one line of bounded length; the fields keep them as they came
		super(
			`${endpoint} endpoint${url === undefined ? '' : ` at ${url}`} answered ${status} ${quoted(error)}${errorDescription ? `: ${quoted(errorDescription)}` : ''}`,
		);
	}
}

/**
 * why a server could not be used for now; none of these is a verdict on the session. `identity`:
 * the account's DID or its PDS's metadata could not be resolved before a refresh.
 */
export type TransientErrorKind = 'network' | 'timeout' | 'server_error' | 'rate_limited' | 'identity';

/**
 * a failure that may pass: a network error, a time-out, a 5xx or a 429. sessions are never
 * deleted because of one; try again later.
 */
export class OAuthTransientError extends Error {
	override name = 'OAuthTransientError';
	/** stable code: `ERR_OAUTH_TRANSIENT`. */
	readonly code = 'ERR_OAUTH_TRANSIENT' as const;
	/** always true: lets callers tell these apart without `instanceof`. */
	readonly transient = true;

	/**
	 * how long the server asked us to wait before trying again, in milliseconds: its `Retry-After`
	 * header on a 429 or 5xx answer, when it sent a valid one (RFC 9110 §10.2.3); else undefined.
	 */
	readonly retryAfterMs: number | undefined;

	constructor(
		/** what kind of failure. */
		readonly kind: TransientErrorKind,
		message: string,
		/** the HTTP status, for `server_error` and `rate_limited`. */
		readonly status?: number | undefined,
		options?: ErrorOptions & { retryAfterMs?: number | undefined },
	) {
		super(message, options);
		this.retryAfterMs = options?.retryAfterMs;
	}
}

/** a server answered with something that is not a valid OAuth response. */
export class InvalidResponseError extends Error {
	override name = 'InvalidResponseError';
	/** stable code: `ERR_INVALID_RESPONSE`. */
	readonly code = 'ERR_INVALID_RESPONSE' as const;

	constructor(
		/** which endpoint answered. */
		readonly endpoint: string,
		message: string,
		/** the endpoint's URL (origin and path), which the message names. */
		readonly url?: string | undefined,
	) {
		super(`${endpoint} endpoint${url === undefined ? '' : ` at ${url}`}: ${message}`);
	}
}

/**
 * why a refresh ended the session: the server refused the refresh token (`invalid_grant`), the
 * session had none, the refreshed tokens were for another account (`sub_mismatch`), the server's
 * answer failed the atproto checks after the refresh token was spent (`invalid_response`: the
 * tokens it carried were revoked), the account's identity now leads to another authorization
 * server (`issuer_changed`), or the new tokens could not be stored after the old refresh token
 * was spent (`store_failed`; a store error with `transient: true` is tried three times first).
 */
export type TokenRefreshFailure =
	| 'invalid_grant'
	| 'no_refresh_token'
	| 'sub_mismatch'
	| 'invalid_response'
	| 'issuer_changed'
	| 'store_failed';

/**
 * the session's refresh token was refused, or the refreshed tokens failed a check. definitive:
 * the session has been deleted and the user must sign in again; unless what the store held then
 * could not be taken up (a session another process wrote meanwhile, or an entry the store cannot
 * read for good), which is left as it is.
 */
export class TokenRefreshError extends Error {
	override name = 'TokenRefreshError';
	/** stable code: `ERR_TOKEN_REFRESH`. */
	readonly code = 'ERR_TOKEN_REFRESH' as const;

	constructor(
		/** the account whose session ended. */
		readonly did: Did,
		/** why. */
		readonly reason: TokenRefreshFailure,
		message: string,
		options?: ErrorOptions,
	) {
		super(message, options);
	}
}

/** there is no stored session for this account (never signed in, signed out, or ended). */
export class SessionNotFoundError extends Error {
	override name = 'SessionNotFoundError';
	/** stable code: `ERR_SESSION_NOT_FOUND`. */
	readonly code = 'ERR_SESSION_NOT_FOUND' as const;
	/**
	 * when the store holds a session of this account that a client of another `client_id` stored
	 * (two apps on one store, or this app before its `client_id` moved): that client's `client_id`.
	 * the session is left as it is; a sign-in here replaces it.
	 */
	readonly storedBy: string | undefined;

	constructor(
		/** the account asked for. */
		readonly did: Did,
		/** the `client_id` of the client whose session the store holds instead, if any. */
		storedBy?: string,
	) {
		super(
			storedBy === undefined
				? `no OAuth session for ${did}`
				: `no OAuth session for ${did} of this client: the session store holds one of another client (client_id ${JSON.stringify(storedBy.slice(0, 256))}); each client_id needs its own session store`,
		);
		this.storedBy = storedBy;
	}
}

/**
 * the stored session of this account lacks what the client needs (its DPoP key, its client
 * authentication, its tokens, their issuer or PDS), or holds one of them in another shape: written
 * by hand, by another library, or damaged. nothing was sent and the session is kept, for you to
 * look at; `revoke()` still deletes it. not transient: reading it again gives the same answer.
 */
export class UnreadableSessionError extends Error {
	override name = 'UnreadableSessionError';
	/** stable code: `ERR_UNREADABLE_SESSION`. */
	readonly code = 'ERR_UNREADABLE_SESSION' as const;
	/** reading it again gives the same answer. */
	readonly transient = false;

	constructor(
		/** the account whose session it is. */
		readonly did: Did,
		/** what is missing or malformed, naming the field (never its value). */
		readonly problem: string,
		/** `cause`: the error that found it (an `InvalidKeyError` for a DPoP key that cannot be imported). */
		options?: ErrorOptions,
	) {
		super(`the stored OAuth session of ${did} cannot be used: ${problem}`, options);
	}
}

/**
 * the key the session was bound to is no longer in the keyset (it was rotated out), or its `kid`
 * now names other key material (`replaced`), so the session can never authenticate again.
 * definitive: the session has been deleted. met by a sign-in's callback (started on a process
 * whose keyset had the key), nothing was sent and the state is kept: a process that has the key
 * can complete the same callback.
 */
export class AuthMethodUnsatisfiableError extends Error {
	override name = 'AuthMethodUnsatisfiableError';
	/** stable code: `ERR_AUTH_METHOD_UNSATISFIABLE`. */
	readonly code = 'ERR_AUTH_METHOD_UNSATISFIABLE' as const;

	constructor(
		/** the account whose session ended (unknown while a sign-in is completing). */
		readonly did: Did | undefined,
		/** the key id the session was bound to. */
		readonly kid: string,
		/**
		 * `signIn`: a sign-in's callback met it (the sign-in was started with a key this process's
		 * keyset lacks: in a rolling deploy, another process may have it). `replaced`: the keyset
		 * has a key of that `kid`, but other key material (a `kid` given to a new key).
		 */
		options?: { signIn?: boolean | undefined; replaced?: boolean | undefined },
	) {
		const whose = did ? ` of ${did}` : '';
		const replaced = options?.replaced === true;
		super(
			options?.signIn
				? `the sign-in${whose} was started with key "${kid}", which this process's keyset ${replaced ? 'holds as other key material' : 'does not have'}`
				: replaced
					? `the session${whose} is bound to key "${kid}" as it was when it signed in; the keyset's key "${kid}" is other key material (a kid given to a new key)`
					: `the session${whose} is bound to key "${kid}", which is no longer in the keyset`,
		);
		this.replaced = replaced;
	}

	/** whether the keyset still has a key of `kid`, but other key material than the session's. */
	readonly replaced: boolean;
}

/**
 * the account that signed in is not the one expected, or its identity does not lead back to the
 * authorization server that issued the tokens. the tokens were revoked.
 */
export class IdentityMismatchError extends Error {
	override name = 'IdentityMismatchError';
	/** stable code: `ERR_IDENTITY_MISMATCH`. */
	readonly code = 'ERR_IDENTITY_MISMATCH' as const;

	constructor(
		/** what did not match: the token's `sub`, or the issuer found by resolving it. */
		readonly field: 'sub' | 'issuer',
		/** what we expected. */
		readonly expected: string,
		/** what we got. */
		readonly actual: string,
	) {
		super(`${field} mismatch: expected ${expected}, got ${actual}`);
	}
}

/**
 * why a handle or DID could not be resolved. `invalid_identifier`: not a handle or a canonical
 * atproto DID, or a handle under a top-level domain atproto disallows (refused before any
 * request); `not_found`: the handle or DID does not exist, or its DID method is not supported;
 * `handle_mismatch`: the DID document does not claim the handle (handles are verified both ways);
 * `invalid_document`: the DID document names no PDS, or is another DID's; `unavailable`: the
 * resolution failed for now (network, time-out, 5xx, 429), the one transient reason.
 */
export type IdentityResolutionFailure =
	| 'invalid_identifier'
	| 'not_found'
	| 'handle_mismatch'
	| 'invalid_document'
	/** the fetch refused to connect on purpose (the Node facade's SSRF guard: a private address). */
	| 'refused'
	| 'unavailable';

/** the handle or DID could not be resolved to a PDS; `reason` says why, `transient` whether to retry. */
export class IdentityResolutionError extends Error {
	override name = 'IdentityResolutionError';
	/** stable code: `ERR_IDENTITY_RESOLUTION`. */
	readonly code = 'ERR_IDENTITY_RESOLUTION' as const;
	/** why. */
	readonly reason: IdentityResolutionFailure;
	/** whether trying again later may work: true for `unavailable` only. */
	readonly transient: boolean;

	constructor(
		/** what was being resolved. */
		readonly identifier: string,
		/** `reason` (default `unavailable`) and `detail`, appended to the message. */
		options?:
			| (ErrorOptions & { reason?: IdentityResolutionFailure | undefined; detail?: string | undefined })
			| undefined,
	) {
		const { reason = 'unavailable', detail, ...errorOptions } = options ?? {};
		super(`could not resolve ${identifier}${detail === undefined ? '' : `: ${detail}`}`, errorOptions);
		this.reason = reason;
		this.transient = reason === 'unavailable';
	}
}

/** a lock could not be acquired in time. nothing was done; try again. */
export class LockTimeoutError extends Error {
	override name = 'LockTimeoutError';
	/** stable code: `ERR_LOCK_TIMEOUT`. */
	readonly code = 'ERR_LOCK_TIMEOUT' as const;
	/** a busy lock is a passing condition. */
	readonly transient = true;

	constructor(
		/** the lock's name. */
		readonly lockName: string,
		/** how long we waited, in milliseconds. */
		readonly timeout: number,
	) {
		super(`lock "${lockName}" not acquired within ${timeout} ms`);
	}
}

/**
 * a distributed lock's backend (Redis, PostgreSQL, SQLite, …) could not be reached or did not
 * answer in time while acquiring. the function was not run; nothing was done. try again, unless
 * `transient` is false. thrown by the lock adapters, defined here so that one class serves them all.
 * the client throws it too when a refresh found its lock lost twice (once in each of two tries)
 * before its refresh token was sent: nothing was sent.
 */
export class LockUnavailableError extends Error {
	override name = 'LockUnavailableError';
	/** stable code: `ERR_LOCK_UNAVAILABLE`. */
	readonly code = 'ERR_LOCK_UNAVAILABLE' as const;
	/**
	 * whether trying again later may work: true (an unreachable backend is a passing condition)
	 * unless the adapter found the backend's failure permanent, e.g. a closed SQLite database.
	 */
	readonly transient: boolean;

	constructor(
		/** the lock's name. */
		readonly lockName: string,
		message: string,
		/** `transient`: false when the backend's failure is permanent; default true. */
		options?: (ErrorOptions & { transient?: boolean | undefined }) | undefined,
	) {
		const { transient = true, ...errorOptions } = options ?? {};
		super(message, errorOptions);
		// a retry loop that follows `transient` must not retry a closed database for ever
		this.transient = transient;
	}
}

/** what a closed client refuses: the operations that write to the stores or spend a token. */
export type ClosedClientOperation = 'authorize' | 'callback' | 'refresh' | 'restore' | 'revoke';

/**
 * the client was closed (`OAuthClient.close()`, a shutdown under way) before this operation
 * began, so it was refused before doing anything: no code or refresh token was spent, no state
 * taken, no session written or deleted. `transient`: another process (or this app, restarted)
 * can do it; a job queue should hand the work on rather than drop it.
 */
export class ClientClosedError extends Error {
	override name = 'ClientClosedError';
	/** stable code: `ERR_CLIENT_CLOSED`. */
	readonly code = 'ERR_CLIENT_CLOSED' as const;
	/** the work can be done elsewhere, or after a restart. */
	readonly transient = true;

	constructor(
		/** the operation refused. */
		readonly operation: ClosedClientOperation,
	) {
		super(`the OAuth client was closed: ${operation} refused (nothing was done)`);
	}
}
