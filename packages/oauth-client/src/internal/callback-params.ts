import { kindOf } from '@atcute-oauth/internal/kind-of';
import { OAuthCallbackError } from '../errors.ts';
import type { StoredState } from '../stored-types.ts';
import { quoted } from './quoted.ts';

/** the parameters that must appear at most once in a callback. */
const SINGLE_PARAMS = ['code', 'state', 'iss', 'error'] as const;

/**
 * the shape of every state a client of ours issues: base64url, this client's 22 characters (16
 * random bytes), upstream 2.x's `nanoid(24)` and `@atproto/oauth-client-node`'s (whose sign-ins
 * complete here) alike, with room to spare. a state of any other shape is none of ours.
 */
const STATE_ID = /^[A-Za-z0-9_-]{1,256}$/;

/** whether `value` reads like `URLSearchParams` (this realm's, another's, a polyfill's). */
const isQuery = (value: unknown): value is URLSearchParams =>
	typeof (value as Partial<URLSearchParams> | null)?.get === 'function' &&
	typeof (value as Partial<URLSearchParams>).getAll === 'function';

/**
 * the callback's query: its `URLSearchParams` (or anything with their `get` and `getAll`, such as
 * a polyfill's), or a `URL`'s. anything else (the query string, a framework's parsed `req.query`)
 * is refused by name, before the state is taken: read as a query it would fail deep inside, or
 * lose a repeated parameter the checks below must see.
 * @throws TypeError naming `callback(params)`; never the value, which carries the code
 */
export const toCallbackParams = (params: unknown): URLSearchParams => {
	if (isQuery(params)) return params;
	const searchParams = (params as { searchParams?: unknown } | null)?.searchParams;
	if (isQuery(searchParams)) return searchParams;
	throw new TypeError(
		`callback(params) expects URLSearchParams (for example new URL(req.url, origin).searchParams), got ${kindOf(params)}`,
	);
};

/**
 * the callback's `state`, after refusing a query that repeats `code`, `state`, `iss` or `error`:
 * with two values, which one the server meant is unknowable, so nothing is taken and nothing
 * exchanged. a state of a shape no client of ours issues is `invalid_state`, the store unasked.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1
 */
export const readCallbackState = (params: URLSearchParams): string => {
	for (const name of SINGLE_PARAMS) {
		// RFC 6749 §3.1: request and response parameters must not be included more than once
		if (params.getAll(name).length > 1) {
			throw new OAuthCallbackError('duplicate_parameter', `the callback repeats the ${name} parameter`);
		}
	}
	const stateId = params.get('state');
	if (!stateId) {
		throw new OAuthCallbackError('missing_state', 'the callback has no state parameter');
	}
	// refused before the store is asked: a state store shared with the sessions (one table for both)
	// would otherwise hand `?state=did:plc:...` that account's session, which the callback then
	// spends; and no store gets a 1 MB, NUL or lone-surrogate key from a link anyone can write.
	// never quoted: it is a state id, which a log must not keep
	if (!STATE_ID.test(stateId)) {
		throw new OAuthCallbackError('invalid_state', 'unknown state: not a state id any client of ours issues');
	}
	return stateId;
};

/** a callback that passed every check before the code exchange; only this carries a code to it. */
export interface CheckedCallback {
	readonly code: string;
}

/**
 * checks a callback whose state we took, in the order that matters: the state's expiry, then
 * `iss` (mix-up defence, for an error response too), then the server's `error`, then the presence
 * of `code`.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 * @see https://atproto.com/specs/oauth#authorization-callback
 */
export const checkCallback = (params: URLSearchParams, stored: StoredState, now: number): CheckedCallback => {
	// the library enforces the 10 minutes itself: a store's TTL may be late or absent
	if (!(stored.expiresAt > now)) {
		throw new OAuthCallbackError(
			'expired_state',
			'the authorization took longer than 10 minutes',
			stored.appState,
		);
	}

	// mix-up defence (RFC 9207 §2.4): the response, an error one too, must come from the server we
	// sent the user to. checked before the error: one from elsewhere (a link anyone can write) must
	// not be taken as our server's refusal, its code and description shown as the server's words
	const iss = params.get('iss');
	if (iss === null) {
		throw new OAuthCallbackError('missing_iss', 'the callback has no iss parameter', stored.appState);
	}
	if (iss !== stored.issuer) {
		throw new OAuthCallbackError(
			'issuer_mismatch',
			`the callback does not come from ${stored.issuer}, but from ${quoted(iss)}`,
			stored.appState,
		);
	}

	const error = params.get('error');
	if (error === '') {
		// an error response without its code (RFC 6749 §4.1.2.1 requires one) is malformed: refused
		// as such, not as an error named '' that an app cannot tell from nothing
		throw new OAuthCallbackError(
			'invalid_request',
			'the callback has an empty error parameter',
			stored.appState,
		);
	}
	if (error !== null) {
		throw new OAuthCallbackError(error, params.get('error_description') ?? undefined, stored.appState);
	}

	const code = params.get('code');
	if (!code) {
		throw new OAuthCallbackError('missing_code', 'the callback has no code parameter', stored.appState);
	}
	return { code };
};
