import { encodeJwtSegment, signJwt } from './jwt.ts';
import { Keyset } from './keyset.ts';
import type { PrivateKey } from './private-key.ts';
import { randomId } from './random-id.ts';

/** the `client_assertion_type` sent with a `private_key_jwt` assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** how long an assertion is valid, in seconds: long enough for one request, short against replay. */
const DEFAULT_LIFETIME_SECONDS = 60;

/** options for `createClientAssertion`. */
export interface ClientAssertionOptions {
	/** the client id: both `iss` and `sub`. */
	clientId: string;
	/** the authorization server's issuer identifier: the `aud`. */
	audience: string;
	/** seconds until `exp`; default 60, at most 300. */
	lifetime?: number | undefined;
	/** the clock, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
}

/** what was passed instead of a key, for the message; never any of its contents. */
const describeNonKey = (value: unknown): string => {
	if (value === null) return 'null';
	if (typeof value !== 'object') return typeof value;
	if (value instanceof Keyset) return 'a Keyset: pick its key with keyset.negotiate(serverAlgs)';
	const record = value as Record<string, unknown>;
	if (typeof record.then === 'function') return 'a Promise: await it first';
	if (typeof record.kty === 'string') return 'a JWK: import it with importJwkKey first';
	return 'an object without kid, alg and sign';
};

/**
 * throws a TypeError naming the key argument unless `key` can sign an assertion (a `kid`, an
 * `alg` and a `sign` function): without it the caller would see a property read of undefined,
 * or "sign is not a function".
 */
const checkSigningKey = (key: unknown): void => {
	const candidate = key as Partial<PrivateKey> | null | undefined;
	if (
		typeof key === 'object' &&
		key !== null &&
		!(key instanceof Keyset) &&
		typeof candidate?.kid === 'string' &&
		typeof candidate.alg === 'string' &&
		typeof candidate.sign === 'function'
	) {
		return;
	}
	throw new TypeError(
		`createClientAssertion expects a key from importJwkKey/generatePrivateKey/importPkcs8Key (or keyset.negotiate()), got ${describeNonKey(key)}`,
	);
};

// the header is the same for every assertion a key makes: encode it once per key
const headers = new WeakMap<PrivateKey, string>();

/**
 * creates a `private_key_jwt` client assertion: `iss` = `sub` = client id, `aud` = issuer, a
 * fresh `jti`, `iat` and a short `exp`; the header names the key's `kid` and `alg`.
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 * @see https://atproto.com/specs/oauth#confidential-client-authentication
 */
export const createClientAssertion = async (
	key: PrivateKey,
	options: ClientAssertionOptions,
): Promise<string> => {
	checkSigningKey(key);
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(
			`createClientAssertion options must be an object ({ clientId, audience, lifetime?, now? }), got ${options === null ? 'null' : typeof options}`,
		);
	}
	const { clientId, audience, lifetime = DEFAULT_LIFETIME_SECONDS, now = Date.now } = options;
	if (typeof now !== 'function') {
		throw new TypeError(
			`client assertion clock (options.now) must be a function returning milliseconds since the epoch (as Date.now, not its result), got ${typeof now}`,
		);
	}
	// a signed assertion with an empty or missing iss/sub/aud names no client and no server
	for (const [name, value] of [
		['clientId', clientId],
		['audience', audience],
	] as const) {
		if (typeof value !== 'string' || value === '') {
			throw new TypeError(
				`client assertion ${name} must be a non-empty string, got ${value === '' ? 'an empty string' : typeof value}`,
			);
		}
	}
	if (!(Number.isInteger(lifetime) && lifetime >= 1 && lifetime <= 300)) {
		throw new TypeError(
			`client assertion lifetime must be a whole number of seconds from 1 to 300, got ${lifetime}`,
		);
	}

	let header = headers.get(key);
	if (header === undefined) {
		header = encodeJwtSegment({ alg: key.alg, kid: key.kid, typ: 'JWT' });
		headers.set(key, header);
	}

	const time: unknown = now();
	const iat = typeof time === 'number' ? Math.floor(time / 1000) : Number.NaN;
	// NaN or Infinity would sign "iat": null, and an absurd clock an assertion valid for ages
	if (!(Number.isSafeInteger(iat) && iat >= 0 && Number.isSafeInteger(iat + lifetime))) {
		throw new TypeError(
			`client assertion clock (options.now) must return milliseconds since the epoch, got ${typeof time === 'number' ? time : typeof time}`,
		);
	}
	return signJwt(
		header,
		{
			iss: clientId,
			sub: clientId,
			aud: audience,
			// unique per assertion: the server rejects a replayed jti
			jti: randomId(),
			iat,
			exp: iat + lifetime,
		},
		key.sign,
	);
};
