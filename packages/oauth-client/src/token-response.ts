import type { Did } from '@atcute/lexicons';
import { unprintableEscaped } from '@atcute-oauth/internal/unprintable-escaped';
import { InvalidResponseError } from './errors.ts';

/** a token endpoint response that passed the atproto checks. */
export interface TokenResponse {
	access_token: string;
	token_type: 'DPoP';
	sub: Did;
	scope: string;
	refresh_token?: string | undefined;
	expires_in?: number | undefined;
}

/**
 * what a token may hold: RFC 6749 A.12 and A.17, `access-token` and `refresh-token` are
 * `1*VSCHAR` (%x20-7E).
 */
const VSCHARS = /^[\x20-\x7e]+$/;

/**
 * the characters of a scope (RFC 6749 §3.3): its tokens' NQCHAR (%x21 / %x23-5B / %x5D-7E) and the
 * spaces between them. read leniently for the spacing (a doubled or trailing space harms nothing),
 * strictly for the characters.
 */
const SCOPE = /^[ \x21\x23-\x5b\x5d-\x7e]+$/;

// atproto accounts are did:plc or did:web
const ATPROTO_DID = /^did:(?:plc:[a-z2-7]{24}|web:[a-zA-Z0-9.\-%:]+)$/;

/**
 * the longest `expires_in` taken, in seconds: 10 years. atproto access tokens live minutes (the
 * spec caps them at 30), so a larger value is a broken answer, refused like a zero or infinite
 * one rather than clamped; and any expiry within it is a valid `Date`.
 */
export const MAX_EXPIRES_IN_S: number = 10 * 365 * 24 * 60 * 60;

/** the longest part of a refused string value a message repeats. */
const MAX_SHOWN = 256;

/**
 * a refused value as a message shows it: a string quoted and cut, anything else by its kind only.
 * never the value itself: JSON.stringify of a deeply nested one throws a RangeError, and a large
 * one would put up to 64 KiB of the server's answer into an error an app logs.
 */
const shown = (value: unknown): string => {
	if (value === undefined || value === null) return 'null';
	if (typeof value === 'string') {
		// a server's text: one plain line, its bidi overrides and line separators escaped too
		return unprintableEscaped(
			JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value),
		);
	}
	if (Array.isArray(value)) return 'an array';
	return typeof value === 'object' ? 'an object' : String(value);
};

const fail = (message: string): never => {
	// messages name fields only: the body holds tokens
	throw new InvalidResponseError('token', message);
};

/**
 * checks a token response as atproto requires: a DPoP token, a `sub` that is an atproto DID, and
 * a scope that includes `atproto`.
 * @see https://atproto.com/specs/oauth#tokens-and-session-management
 */
export const parseTokenResponse = (json: unknown): TokenResponse => {
	const body = json as Record<string, unknown>;

	if (typeof body.access_token !== 'string' || body.access_token === '') {
		fail('"access_token" must be a non-empty string');
	}
	// it goes into the Authorization header of every PDS request: a character no header carries
	// would make each one throw a TypeError from Headers, whose message quotes the token
	if (!VSCHARS.test(body.access_token as string)) {
		fail('"access_token" must be printable ASCII (RFC 6749 VSCHAR)');
	}
	// RFC 6749 §7.1: the token type is case-insensitive
	if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'dpop') {
		fail(`"token_type" must be "DPoP", got ${shown(body.token_type)}`);
	}
	if (typeof body.sub !== 'string' || !ATPROTO_DID.test(body.sub)) {
		fail(`"sub" must be an atproto DID, got ${shown(body.sub)}`);
	}
	if (typeof body.scope !== 'string' || !body.scope.split(' ').includes('atproto')) {
		fail(`"scope" must include "atproto", got ${shown(body.scope)}`);
	}
	// a byte that is no UTF-8 (read as U+FFFD), a control character, a letter past ASCII: no scope
	// token holds one, and no request asked for it; the session would carry it as its granted scope
	if (!SCOPE.test(body.scope as string)) {
		fail(
			`"scope" must be printable ASCII tokens and spaces (RFC 6749 §3.3 NQCHAR), got ${shown(body.scope)}`,
		);
	}
	if (
		body.refresh_token !== undefined &&
		(typeof body.refresh_token !== 'string' || body.refresh_token === '')
	) {
		fail('"refresh_token" must be a non-empty string when present');
	}
	// sent back in a form body, where a lone surrogate would go as U+FFFD: another token
	if (body.refresh_token !== undefined && !VSCHARS.test(body.refresh_token as string)) {
		fail('"refresh_token" must be printable ASCII (RFC 6749 VSCHAR)');
	}
	// finite and bounded too: JSON's 1e999 parses to Infinity, which no store keeps and no Date
	// shows, and 1e300 is finite but as absurd (its expiry is no Date either). 0 is a token that
	// expires at once: the reference server counts whole seconds down, so it gives one in a grant's
	// last second. refused, the grant's end became a malformed answer (its tokens revoked, the
	// session ended as `invalid_response`); taken, the next call refreshes and hears `invalid_grant`
	if (
		body.expires_in !== undefined &&
		!(
			typeof body.expires_in === 'number' &&
			Number.isFinite(body.expires_in) &&
			body.expires_in >= 0 &&
			body.expires_in <= MAX_EXPIRES_IN_S
		)
	) {
		fail(`"expires_in" must be a finite number of seconds from 0 to ${MAX_EXPIRES_IN_S}, when present`);
	}

	return {
		access_token: body.access_token as string,
		token_type: 'DPoP',
		sub: body.sub as Did,
		scope: body.scope as string,
		refresh_token: body.refresh_token as string | undefined,
		expires_in: body.expires_in as number | undefined,
	};
};
