import { decodeProtectedHeader, errors, type JWK, jwtVerify } from 'jose';

import type { ResolvedClient } from './client-metadata.ts';
import type { ClientRegistry } from './client-registry.ts';
import { HttpError } from './internal/http-error.ts';
import { cachedImportJwk, cachedThumbprint } from './internal/key-cache.ts';

/** the `client_assertion_type` of a `private_key_jwt` assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** how a client authenticated; a session keeps it, and later requests must match it. */
export type ClientAuth =
	| { method: 'none' }
	| {
			method: 'private_key_jwt';
			/** the `kid` of the assertion key. */
			kid: string;
			/** the assertion algorithm. */
			alg: string;
			/** the SHA-256 thumbprint of the assertion key. */
			jkt: string;
	  };

/** what `authenticateClient` checks against. */
export interface ClientAuthCheck {
	clients: ClientRegistry;
	/** the issuer: the `aud` an assertion must carry. */
	issuer: string;
	/** the algorithms an assertion may use. */
	algorithms: readonly string[];
	/** the server clock, in milliseconds. */
	now: number;
	/** the `client_id` and `jti` pairs already seen; a verified assertion's pair is added. */
	seenJtis: Set<string>;
}

/** how old a client assertion may be, in seconds: the reference server's `CLIENT_ASSERTION_MAX_AGE`. */
const ASSERTION_MAX_AGE_SECONDS = 60;

const invalidClient = (description: string): HttpError => {
	return new HttpError(401, 'invalid_client', description);
};

/**
 * authenticates the client of a request from its body parameters: a loopback or `none` client
 * must send no assertion; a `private_key_jwt` client must send a jwt-bearer assertion with a
 * `kid` naming a key of its JWKS, `iss` = `sub` = `client_id`, `aud` = the issuer, an `iat` in
 * the last 60 s and never ahead of the server clock, an `exp` (if any) to come, and an unseen
 * `jti`, as the reference server checks them (`maxTokenAge`, no tolerance). throws an `HttpError`
 * to answer with.
 * @see https://atproto.com/specs/oauth#confidential-client-authentication
 */
export const authenticateClient = async (
	params: ReadonlyMap<string, string>,
	check: ClientAuthCheck,
): Promise<{ client: ResolvedClient; auth: ClientAuth }> => {
	const clientId = params.get('client_id');
	if (clientId === undefined || clientId === '') {
		throw invalidClient('"client_id" is required');
	}
	const client = check.clients.resolve(clientId);

	const assertion = params.get('client_assertion');
	const assertionType = params.get('client_assertion_type');
	if (params.has('client_secret')) {
		throw invalidClient('"client_secret" is not allowed: atproto clients use private_key_jwt or none');
	}

	if (client.authMethod === 'none') {
		if (assertion !== undefined || assertionType !== undefined) {
			throw invalidClient(
				`client "${clientId}" uses token_endpoint_auth_method "none": no client_assertion allowed`,
			);
		}
		return { client, auth: { method: 'none' } };
	}

	if (assertionType !== CLIENT_ASSERTION_TYPE) {
		throw invalidClient(
			assertionType === undefined
				? `client "${clientId}" uses private_key_jwt: "client_assertion_type" is required`
				: `Unsupported client_assertion_type "${assertionType}"`,
		);
	}
	if (assertion === undefined || assertion === '') {
		throw invalidClient(`client "${clientId}" uses private_key_jwt: "client_assertion" is required`);
	}

	let header: ReturnType<typeof decodeProtectedHeader>;
	try {
		header = decodeProtectedHeader(assertion);
	} catch {
		throw invalidClient('"client_assertion" is not a JWS');
	}
	const { kid, alg } = header;
	if (typeof kid !== 'string' || kid === '') {
		throw invalidClient('"kid" required in client_assertion');
	}
	if (typeof alg !== 'string' || !check.algorithms.includes(alg)) {
		throw invalidClient(
			`client_assertion "alg" ${JSON.stringify(alg)} is not one of ${check.algorithms.join(', ')}`,
		);
	}

	const keys = await check.clients.keysOf(client);
	const jwk = keys.find((key) => key.kid === kid);
	if (jwk === undefined) {
		throw invalidClient(`no key with kid "${kid}" in the JWKS of "${clientId}"`);
	}
	if (jwk.alg !== undefined && jwk.alg !== alg) {
		throw invalidClient(`key "${kid}" is for alg ${jwk.alg}, the client_assertion uses ${alg}`);
	}

	let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
	try {
		// imported once per key of the client's JWKS, as a real server caches it; still verified below
		const key = await cachedImportJwk(jwk, alg);
		({ payload } = await jwtVerify(assertion, key, {
			algorithms: [alg],
			issuer: clientId,
			subject: clientId,
			audience: check.issuer,
			currentDate: new Date(check.now),
			// as the reference server: iat required, at most 60 s old and not in the future (no
			// tolerance either way, so a client clock a fraction of a second fast is refused); exp
			// optional
			requiredClaims: ['jti', 'iat'],
			maxTokenAge: ASSERTION_MAX_AGE_SECONDS,
		}));
	} catch (err) {
		const detail = err instanceof errors.JOSEError ? `: ${err.message}` : '';
		throw invalidClient(`Validation of "client_assertion" failed${detail}`);
	}

	const replayKey = `${clientId}\n${String(payload.jti)}`;
	if (check.seenJtis.has(replayKey)) {
		throw invalidClient(`client_assertion jti reused ("${String(payload.jti)}")`);
	}
	check.seenJtis.add(replayKey);

	const { kty, crv, x, y, n, e } = jwk;
	const publicJwk = Object.fromEntries(
		Object.entries({ kty, crv, x, y, n, e }).filter(([, value]) => value !== undefined),
	) as JWK;
	const jkt = await cachedThumbprint(publicJwk);
	return { client, auth: { method: 'private_key_jwt', kid, alg, jkt } };
};

/** whether a request authenticated the same way as the one that started a session. */
export const sameClientAuth = (previous: ClientAuth, current: ClientAuth): string | undefined => {
	if (previous.method !== current.method) {
		return `Client authentication method mismatch (expected ${previous.method}, got ${current.method})`;
	}
	if (
		previous.method === 'private_key_jwt' &&
		current.method === 'private_key_jwt' &&
		(previous.kid !== current.kid || previous.alg !== current.alg || previous.jkt !== current.jkt)
	) {
		return `The session was initiated with a different key than the client assertion currently used (kid "${previous.kid}", now "${current.kid}")`;
	}
	return undefined;
};
