import type { JWK } from 'jose';

import { HttpError } from './internal/http-error.ts';

/**
 * the fields of a client metadata document the server reads; any other field is kept and ignored.
 * @see https://atproto.com/specs/oauth#client-id-metadata-document
 */
export interface ClientMetadata {
	client_id: string;
	redirect_uris?: readonly string[] | undefined;
	scope?: string | undefined;
	grant_types?: readonly string[] | undefined;
	response_types?: readonly string[] | undefined;
	application_type?: string | undefined;
	token_endpoint_auth_method?: string | undefined;
	token_endpoint_auth_signing_alg?: string | undefined;
	jwks?: { keys: readonly object[] } | undefined;
	jwks_uri?: string | undefined;
	dpop_bound_access_tokens?: boolean | undefined;
	[field: string]: unknown;
}

/** a client's metadata, checked and with its defaults filled in. */
export interface ResolvedClient {
	clientId: string;
	/** a loopback public client (`http://localhost…`), whose metadata comes from its id. */
	loopback: boolean;
	redirectUris: readonly string[];
	/** the space-separated tokens of the metadata `scope`. */
	scopes: readonly string[];
	grantTypes: readonly string[];
	authMethod: 'none' | 'private_key_jwt';
	/** the inline keys, for `private_key_jwt` with `jwks`. */
	jwks: readonly JWK[] | undefined;
	/** where to fetch the keys, for `private_key_jwt` with `jwks_uri`. */
	jwksUri: string | undefined;
}

const LOOPBACK_CLIENT_ID = 'http://localhost';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** whether a client id names a loopback public client. */
export const isLoopbackClientId = (clientId: string): boolean => {
	return clientId.startsWith(LOOPBACK_CLIENT_ID);
};

const badMetadata = (clientId: string, description: string): HttpError => {
	return new HttpError(
		400,
		'invalid_client_metadata',
		`Invalid client metadata for "${clientId}": ${description}`,
	);
};

const isStringArray = (value: unknown): value is string[] => {
	return Array.isArray(value) && value.every((item) => typeof item === 'string');
};

/**
 * the metadata of a loopback client from its id, as the reference server derives it: the
 * `redirect_uri` (repeatable) and `scope` query parameters, else `http://127.0.0.1/` and
 * `http://[::1]/` and `atproto`; public (`none`), DPoP-bound, both grants.
 * @see https://atproto.com/specs/oauth#localhost-client-development
 */
export const loopbackClientMetadata = (clientId: string): ClientMetadata => {
	const rest = clientId.slice(LOOPBACK_CLIENT_ID.length);
	if (rest !== '' && !rest.startsWith('?')) {
		throw badMetadata(clientId, 'a loopback client_id is "http://localhost" with no port and an empty path');
	}
	const params = new URLSearchParams(rest.slice(1));
	for (const name of params.keys()) {
		if (name !== 'redirect_uri' && name !== 'scope') {
			throw badMetadata(clientId, `invalid query parameter "${name}" in a loopback client_id`);
		}
	}
	const scopes = params.getAll('scope');
	if (scopes.length > 1) {
		throw badMetadata(clientId, 'more than one "scope" parameter in a loopback client_id');
	}
	const redirectUris = params.getAll('redirect_uri');
	for (const uri of redirectUris) {
		let url: URL;
		try {
			url = new URL(uri);
		} catch {
			throw badMetadata(clientId, `loopback redirect_uri "${uri}" is not a URL`);
		}
		if (url.protocol !== 'http:' || (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]')) {
			throw badMetadata(
				clientId,
				`loopback redirect_uri "${uri}" must be http://127.0.0.1 or http://[::1] (not localhost)`,
			);
		}
	}

	return {
		client_id: clientId,
		client_name: 'Loopback client',
		response_types: ['code'],
		grant_types: ['authorization_code', 'refresh_token'],
		scope: scopes[0] || 'atproto',
		redirect_uris: redirectUris.length > 0 ? redirectUris : ['http://127.0.0.1/', 'http://[::1]/'],
		token_endpoint_auth_method: 'none',
		application_type: 'native',
		dpop_bound_access_tokens: true,
	};
};

/** checks a client's metadata document like the reference server, and fills in the defaults. */
export const resolveClientMetadata = (clientId: string, metadata: ClientMetadata): ResolvedClient => {
	if (metadata.client_id !== clientId) {
		throw badMetadata(clientId, `"client_id" in the document is ${JSON.stringify(metadata.client_id)}`);
	}

	const redirectUris = metadata.redirect_uris;
	if (!isStringArray(redirectUris) || redirectUris.length === 0) {
		throw badMetadata(clientId, '"redirect_uris" must be a non-empty array of strings');
	}

	const responseTypes = metadata.response_types ?? ['code'];
	if (!isStringArray(responseTypes) || !responseTypes.includes('code')) {
		throw badMetadata(clientId, '"response_types" must include "code"');
	}

	// RFC 7591 §2: without grant_types only authorization_code is allowed (no refresh tokens)
	const grantTypes = metadata.grant_types ?? ['authorization_code'];
	if (!isStringArray(grantTypes) || !grantTypes.includes('authorization_code')) {
		throw badMetadata(clientId, '"grant_types" must include "authorization_code"');
	}

	if (typeof metadata.scope !== 'string') {
		throw badMetadata(clientId, '"scope" is required');
	}
	const scopes = metadata.scope.split(' ').filter(Boolean);
	if (!scopes.includes('atproto')) {
		throw badMetadata(clientId, '"scope" must include "atproto"');
	}

	if (metadata.dpop_bound_access_tokens !== true) {
		throw badMetadata(clientId, '"dpop_bound_access_tokens" must be true');
	}

	const authMethod = metadata.token_endpoint_auth_method;
	if (authMethod !== 'none' && authMethod !== 'private_key_jwt') {
		throw badMetadata(
			clientId,
			`"token_endpoint_auth_method" must be "none" or "private_key_jwt", got ${JSON.stringify(authMethod)}`,
		);
	}

	let jwks: JWK[] | undefined;
	let jwksUri: string | undefined;
	if (authMethod === 'private_key_jwt') {
		if (metadata.application_type === 'native') {
			throw badMetadata(clientId, 'native clients must use "token_endpoint_auth_method": "none"');
		}
		const alg = metadata.token_endpoint_auth_signing_alg;
		if (typeof alg !== 'string' || alg === 'none') {
			throw badMetadata(clientId, '"token_endpoint_auth_signing_alg" is required and cannot be "none"');
		}
		if ((metadata.jwks === undefined) === (metadata.jwks_uri === undefined)) {
			throw badMetadata(clientId, 'private_key_jwt needs exactly one of "jwks" and "jwks_uri"');
		}
		if (metadata.jwks !== undefined) {
			if (!Array.isArray(metadata.jwks?.keys)) {
				throw badMetadata(clientId, '"jwks" must be an object with a "keys" array');
			}
			jwks = metadata.jwks.keys as JWK[];
			if (jwks.some((key) => typeof key.kid !== 'string' || key.kid === '')) {
				throw badMetadata(clientId, 'every key in "jwks" needs a "kid"');
			}
			if (jwks.some((key) => 'd' in key)) {
				throw badMetadata(clientId, '"jwks" holds a private key');
			}
		} else {
			if (typeof metadata.jwks_uri !== 'string') {
				throw badMetadata(clientId, '"jwks_uri" must be a URL');
			}
			jwksUri = metadata.jwks_uri;
		}
	}

	return {
		clientId,
		loopback: isLoopbackClientId(clientId),
		redirectUris,
		scopes,
		grantTypes,
		authMethod,
		jwks,
		jwksUri,
	};
};

/**
 * whether a requested redirect URI matches a registered one: exactly, or for a loopback host
 * (127.0.0.1, [::1], localhost) in everything but the port.
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export const matchesRedirectUri = (registered: string, requested: string): boolean => {
	if (registered === requested) return true;
	let allowed: URL;
	let actual: URL;
	try {
		allowed = new URL(registered);
		actual = new URL(requested);
	} catch {
		return false;
	}
	return (
		LOOPBACK_HOSTS.has(allowed.hostname) &&
		actual.protocol === allowed.protocol &&
		actual.hostname === allowed.hostname &&
		actual.pathname === allowed.pathname &&
		actual.search === allowed.search &&
		actual.hash === ''
	);
};
