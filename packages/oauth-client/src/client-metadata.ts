import type { Jwks, Keyset, PrivateKey } from '@atcute/oauth-keys';
import { parseScopeToken } from '@atcute/oauth-scope';

import { toKeyset } from './internal/to-keyset.ts';

/** the client metadata an app writes; everything atproto fixes is filled in for it. */
export interface ClientMetadataInput {
	/**
	 * the https URL where `oauth.metadata` is served: the client's identity. omit it (or use
	 * `http://localhost`, with or without `/`) for a loopback client in local development, which
	 * needs no keyset.
	 */
	client_id?: string | undefined;
	/** where the authorization server sends the user back; the first is the default. */
	redirect_uris: readonly string[];
	/** the scopes the client may ask for: a space-separated string or a list (`atproto` is added). */
	scope: string | readonly string[];
	/** the https URL where `oauth.jwks` is served, on a public host; omit to inline the keys. */
	jwks_uri?: string | undefined;
	/** the app's name, shown on the consent page. */
	client_name?: string | undefined;
	/**
	 * the app's home page: on `client_id`'s origin, at its path or a folder above it (for
	 * `https://app.example.com/oauth/client-metadata.json`, `https://app.example.com/` or
	 * `https://app.example.com/oauth`).
	 */
	client_uri?: string | undefined;
	/** the app's logo. */
	logo_uri?: string | undefined;
	/** the terms of service. */
	tos_uri?: string | undefined;
	/** the privacy policy. */
	policy_uri?: string | undefined;
}

/** the client metadata document served at `client_id` (wire spelling). */
export interface OAuthClientMetadata {
	/**
	 * the client's identity: the https URL this document is served at, or `http://localhost?…`
	 * (redirect URIs and scope in the query) for a loopback client.
	 * @see https://atproto.com/specs/oauth#client-id-metadata-document
	 */
	client_id: string;
	/**
	 * the app's name, shown on the consent page.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	client_name?: string;
	/**
	 * the app's home page, an https URL (on `client_id`'s host, for a confidential client).
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	client_uri?: string;
	/**
	 * the app's logo, an https URL.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	logo_uri?: string;
	/**
	 * the terms of service, an https URL.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	tos_uri?: string;
	/**
	 * the privacy policy, an https URL.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	policy_uri?: string;
	/**
	 * where the authorization server may send the user back; the first is the default.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	redirect_uris: string[];
	/**
	 * the scopes the client may ask for, space-separated, `atproto` first.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	scope: string;
	/**
	 * the grants the client uses: the code flow, and refresh.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	grant_types: ['authorization_code', 'refresh_token'];
	/**
	 * the response types the client uses: `code` only.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	response_types: ['code'];
	/**
	 * `web` for a confidential client, `native` for a loopback one.
	 * @see https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata
	 */
	application_type: 'web' | 'native';
	/**
	 * how the client authenticates at the token endpoint: `private_key_jwt` (a signed assertion),
	 * or `none` for a loopback client.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	token_endpoint_auth_method: 'private_key_jwt' | 'none';
	/**
	 * the algorithm of the client's assertions, with `private_key_jwt`.
	 * @see https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata
	 */
	token_endpoint_auth_signing_alg?: 'ES256';
	/**
	 * `true`: every access token the client gets is DPoP-bound.
	 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5.2
	 */
	dpop_bound_access_tokens: true;
	/**
	 * the https URL of the client's public keys (JWKS).
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	jwks_uri?: string;
	/**
	 * the client's public keys, inline, when there is no `jwks_uri`.
	 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
	 */
	jwks?: Jwks;
}

const fail = (field: string, problem: string): never => {
	throw new TypeError(`client metadata "${field}" ${problem}`);
};

const parseUrl = (field: string, value: unknown): URL => {
	if (typeof value !== 'string') return fail(field, `must be a URL string, got ${typeof value}`);
	if (!URL.canParse(value)) return fail(field, `is not a valid URL: ${JSON.stringify(value)}`);
	const url = new URL(value);
	if (url.username || url.password) fail(field, 'must not contain credentials');
	if (url.hash) fail(field, 'must not contain a fragment');
	return url;
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);
const IP_HOST = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/i;
/** top-level names kept for local use (RFC 2606, RFC 6761, RFC 6762): no server of the app's can be there. */
const LOCAL_TLDS = new Set(['test', 'local', 'localhost', 'invalid', 'example']);

/**
 * whether a host is a local name: one label, or under a top-level name kept for local use. the
 * reference authorization server refuses such a `client_id`, `client_uri` or https redirect URI.
 */
const isLocalName = (hostname: string): boolean => {
	const labels = hostname.split('.');
	return labels.length < 2 || LOCAL_TLDS.has(labels.at(-1)!.toLowerCase());
};

/**
 * an https URL of the app's, as an authorization server takes it in client metadata (the
 * reference server's rules, so a document that would fail at the first sign-in fails here):
 * written with a lower-case `https://` (servers check the text, not a parsed form), on no loopback
 * host, and a name of two labels or more, not under `.local`; `names: 'public'` refuses every local
 * name (see `isLocalName`) too.
 */
const httpsUrl = (
	field: string,
	value: unknown,
	names: 'public' | 'any-but-local' = 'any-but-local',
): URL => {
	const url = parseUrl(field, value);
	if (url.protocol !== 'https:') fail(field, `must use https: ${JSON.stringify(value)}`);
	if (!(value as string).startsWith('https://')) {
		fail(field, `must start with "https://" as written (servers read the text): ${JSON.stringify(value)}`);
	}
	const host = url.hostname;
	if (host === 'localhost' || LOOPBACK_HOSTS.has(host)) {
		fail(field, `must not be on a loopback host (authorization servers refuse it): ${JSON.stringify(value)}`);
	}
	// an IPv6 literal is one "label" to the reference server: a local name where it asks a public one
	if (
		(!IP_HOST.test(host) && (!host.includes('.') || host.endsWith('.local'))) ||
		(names === 'public' && isLocalName(host))
	) {
		// the rules this field is held to, and no others: a .test host is fine for a jwks_uri, and a
		// message that listed it would send the reader to move a host that works
		const refused =
			names === 'public'
				? 'one label, or under .test, .local, .localhost, .invalid or .example; an IPv6 address where a public name is asked'
				: 'one label, or under .local';
		fail(
			field,
			`must be on a public domain name, not a local one (${refused}: authorization servers refuse them): ${JSON.stringify(value)}`,
		);
	}
	return url;
};

// what atproto fixes for every client: the code flow with refresh, and DPoP-bound tokens (new
// lists each time: each document is the caller's own)
const fixedFields = (): Pick<
	OAuthClientMetadata,
	'grant_types' | 'response_types' | 'dpop_bound_access_tokens'
> => ({
	grant_types: ['authorization_code', 'refresh_token'],
	response_types: ['code'],
	dpop_bound_access_tokens: true,
});

/** the fields `metadata` takes (those of `ClientMetadataInput`): the record names each, and no other. */
const INPUT_FIELDS = Object.keys({
	client_id: true,
	redirect_uris: true,
	scope: true,
	jwks_uri: true,
	client_name: true,
	client_uri: true,
	logo_uri: true,
	tos_uri: true,
	policy_uri: true,
} satisfies Record<keyof ClientMetadataInput, true>);

/** the fields the client builds itself: given, each must be what it builds (or be left out). */
const BUILT_FIELDS = [
	'grant_types',
	'response_types',
	'application_type',
	'token_endpoint_auth_method',
	'token_endpoint_auth_signing_alg',
	'dpop_bound_access_tokens',
	'jwks',
] as const;

/**
 * a value as JSON, lists and members in any order (`grant_types` named the other way round, a JWKS
 * written with its members in another order, are the same).
 */
const canonical = (value: unknown): unknown => {
	if (Array.isArray(value)) return value.map((item) => JSON.stringify(canonical(item))).sort();
	if (typeof value !== 'object' || value === null) return value;
	const record = value as Record<string, unknown>;
	return Object.fromEntries(
		Object.keys(record)
			.sort()
			.map((key) => [key, canonical(record[key])]),
	);
};
const comparable = (value: unknown): string => JSON.stringify(canonical(value));

/** a field's value for an error: short data as JSON, else what it is (a JWKS is not repeated). */
const shown = (value: unknown): string => {
	const text = JSON.stringify(value);
	return text !== undefined && text.length <= 80
		? text
		: Array.isArray(value)
			? 'another list'
			: typeof value;
};

/**
 * refuses a field `metadata` neither takes nor builds (a misspelt `logo_url`, `redirect_uri`): the
 * document would otherwise drop it without a word. checked first, before what it may explain. a
 * field set to `undefined` is absent.
 */
const checkFieldNames = (input: ClientMetadataInput): void => {
	for (const [field, value] of Object.entries(input)) {
		if (value === undefined || INPUT_FIELDS.includes(field)) continue;
		if ((BUILT_FIELDS as readonly string[]).includes(field)) continue;
		const name = field.length > 64 ? `${field.slice(0, 64)}…` : field;
		throw new TypeError(
			`client metadata has no field ${JSON.stringify(name)} (it takes ${INPUT_FIELDS.join(', ')}; the client builds ${BUILT_FIELDS.join(', ')})`,
		);
	}
};

/**
 * refuses a field the client builds, given with another value than it builds
 * (`token_endpoint_auth_method: 'none'` for a client with a keyset): the document would otherwise
 * drop it without a word, and say the opposite of what was written. given with the value the client
 * builds, it is taken (a document written out in full, as another client took it).
 */
const checkBuiltFields = (input: ClientMetadataInput, built: OAuthClientMetadata): void => {
	const kind = built.token_endpoint_auth_method === 'none' ? 'a loopback client' : 'a client with a keyset';
	for (const field of BUILT_FIELDS) {
		const value: unknown = (input as unknown as Record<string, unknown>)[field];
		if (value === undefined) continue;
		const made: unknown = built[field];
		if (made !== undefined && comparable(value) === comparable(made)) continue;
		fail(
			field,
			made === undefined
				? `is not in the metadata of ${kind}, got ${shown(value)}: omit it`
				: field === 'jwks'
					? 'is built from keyset (its public keys), and differs from it: omit it (or give jwks_uri)'
					: `is built by the client (${JSON.stringify(made)} for ${kind}), got ${shown(value)}: omit it`,
		);
	}
};

/** whether `client_id` designates a loopback development client. */
export const isLoopbackClientId = (clientId: string | undefined): boolean => {
	// with or without the empty path `/` (`new URL('http://localhost').href` adds it), as the
	// atproto reference does; the metadata then uses the canonical form built from the input
	return (
		clientId === undefined ||
		clientId === 'http://localhost' ||
		clientId === 'http://localhost/' ||
		clientId.startsWith('http://localhost?') ||
		clientId.startsWith('http://localhost/?')
	);
};

/** an OAuth scope token: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )` (RFC 6749 §3.3). */
const OAUTH_SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** the scope as one canonical-order, duplicate-free string that starts with `atproto`. */
const buildScope = (value: unknown): string => {
	const tokens =
		typeof value === 'string'
			? // its tokens, however many spaces lie between them (as authorize() reads its own scope)
				value.split(' ').filter(Boolean)
			: Array.isArray(value)
				? value
				: fail('scope', 'must be a string or a list of strings');
	const seen = new Set<string>(['atproto']);
	const out = ['atproto'];
	for (const [index, token] of tokens.entries()) {
		if (typeof token !== 'string' || token === '') {
			fail(`scope[${index}]`, 'must be a non-empty string');
		}
		// the server compares requested scopes to these literally: a typo would only show at sign-in
		if (parseScopeToken(token) === undefined) {
			fail('scope', `has an invalid scope ${JSON.stringify(token)}`);
		}
		// the atproto grammar takes a few characters an OAuth scope cannot hold (a `"` or `\` in a
		// blob media type): the server refuses the whole scope at sign-in
		if (!OAUTH_SCOPE_TOKEN.test(token)) {
			fail(
				'scope',
				`has ${JSON.stringify(token)}, which holds a character no OAuth scope may (RFC 6749 §3.3: printable ASCII but space, " and \\; percent-encode it)`,
			);
		}
		if (seen.has(token)) continue;
		seen.add(token);
		out.push(token);
	}
	return out.join(' ');
};

const optionalUrls = (input: ClientMetadataInput): Partial<OAuthClientMetadata> => {
	const out: Partial<OAuthClientMetadata> = {};
	if (input.client_name !== undefined) {
		if (typeof input.client_name !== 'string') fail('client_name', 'must be a string');
		out.client_name = input.client_name;
	}
	for (const field of ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const) {
		if (input[field] === undefined) continue;
		// the app's own page must be on a public name; its logo and documents may be anywhere public
		httpsUrl(field, input[field], field === 'client_uri' ? 'public' : 'any-but-local');
		out[field] = input[field];
	}
	return out;
};

/**
 * builds and checks a confidential client's metadata (`private_key_jwt`, ES256, DPoP). errors
 * are `TypeError`s naming the field. `keyset` is a `Keyset` or a list of private keys, as
 * `OAuthClient` takes it.
 * @see https://atproto.com/specs/oauth#client-id-metadata-document
 */
export const buildClientMetadata = (
	input: ClientMetadataInput,
	keyset: Keyset | readonly PrivateKey[],
): OAuthClientMetadata => {
	if (typeof input !== 'object' || input === null) fail('metadata', 'must be an object');
	checkFieldNames(input);
	const keys = toKeyset(keyset);

	const clientIdUrl = parseUrl('client_id', input.client_id);
	if (clientIdUrl.protocol !== 'https:') fail('client_id', `must be an https URL: ${input.client_id}`);
	if (clientIdUrl.hostname === 'localhost' || IP_HOST.test(clientIdUrl.hostname)) {
		fail('client_id', 'must use a domain name, not localhost or an IP address');
	}
	httpsUrl('client_id', input.client_id, 'public');
	if (clientIdUrl.pathname === '/') {
		fail('client_id', 'must have a path (the URL of the metadata document)');
	}
	if (clientIdUrl.pathname.endsWith('/')) {
		// the reference server refuses it: a document's URL, not a directory's
		fail('client_id', `must not end its path with "/": ${input.client_id}`);
	}
	if (clientIdUrl.href !== input.client_id) {
		// the server compares client ids as strings: say the canonical form rather than differ
		fail('client_id', `must be in canonical form: ${clientIdUrl.href}`);
	}

	const redirectUris = checkRedirectUris(input.redirect_uris, false);

	// atproto servers must support ES256 and the metadata names one signing alg
	if (keys.find({ alg: 'ES256' }) === undefined) {
		throw new TypeError(
			'keyset must hold at least one ES256 key: client metadata "token_endpoint_auth_signing_alg" is ES256',
		);
	}

	// the page the server shows users as the app's must be the app's own: the reference server
	// takes client_id's origin and the document's own path or a folder above it (draft-ietf-oauth-
	// client-id-metadata-document), so https://app.example.com/about fails for
	// https://app.example.com/oauth/client-metadata.json at the first sign-in
	if (input.client_uri !== undefined) {
		const clientUri = httpsUrl('client_uri', input.client_uri, 'public');
		const folder = clientUri.pathname.endsWith('/') ? clientUri.pathname : `${clientUri.pathname}/`;
		if (
			clientUri.origin !== clientIdUrl.origin ||
			(clientUri.pathname !== clientIdUrl.pathname && !clientIdUrl.pathname.startsWith(folder))
		) {
			fail(
				'client_uri',
				`must be on client_id's origin (${clientIdUrl.origin}) at client_id's path or a folder above it (such as ${clientIdUrl.origin}/): ${JSON.stringify(input.client_uri)}`,
			);
		}
	}

	const metadata: OAuthClientMetadata = {
		client_id: input.client_id!,
		...optionalUrls(input),
		redirect_uris: redirectUris,
		scope: buildScope(input.scope),
		...fixedFields(),
		application_type: 'web',
		token_endpoint_auth_method: 'private_key_jwt',
		token_endpoint_auth_signing_alg: 'ES256',
	};

	if (input.jwks_uri !== undefined) {
		// anywhere public: the document at client_id names it, which is what vouches for it
		httpsUrl('jwks_uri', input.jwks_uri);
		metadata.jwks_uri = input.jwks_uri;
	} else {
		metadata.jwks = keys.publicJwks;
	}
	checkBuiltFields(input, metadata);
	return metadata;
};

/**
 * builds a loopback client's metadata for local development: a public client (no keyset) whose
 * `client_id` is `http://localhost` with its redirect URIs and scope in the query.
 * @see https://atproto.com/specs/oauth#localhost-client-development
 */
export const buildLoopbackClientMetadata = (input: ClientMetadataInput): OAuthClientMetadata => {
	if (typeof input !== 'object' || input === null) fail('metadata', 'must be an object');
	checkFieldNames(input);
	const redirectUris = checkRedirectUris(input.redirect_uris, true);
	const scope = buildScope(input.scope);

	// scope first, then the redirect URIs: the order the reference (and @atcute/oauth-node-client
	// 2.0.1) builds it in. the server binds tokens to the client id as text, so another order would
	// make the sessions an earlier client signed in unrefreshable here
	const query = new URLSearchParams();
	if (scope !== 'atproto') query.set('scope', scope);
	for (const uri of redirectUris) query.append('redirect_uri', uri);

	const metadata: OAuthClientMetadata = {
		client_id: `http://localhost?${query}`,
		...optionalUrls(input),
		redirect_uris: redirectUris,
		scope,
		...fixedFields(),
		application_type: 'native',
		token_endpoint_auth_method: 'none',
	};
	checkBuiltFields(input, metadata);
	return metadata;
};

const checkRedirectUris = (value: unknown, loopback: boolean): string[] => {
	if (!Array.isArray(value) || value.length === 0) {
		return fail('redirect_uris', 'must be a non-empty list of URLs');
	}
	return value.map((uri, index) => {
		const field = `redirect_uris[${index}]`;
		const url = parseUrl(field, uri);
		if (loopback) {
			// atproto loopback clients redirect to an IP literal, never to the name "localhost"; the
			// text itself must start so, as the server reads it from the client id
			if (
				url.protocol !== 'http:' ||
				!LOOPBACK_HOSTS.has(url.hostname) ||
				!(uri as string).startsWith('http://')
			) {
				fail(field, `must be http://127.0.0.1 or http://[::1] for a loopback client: ${uri}`);
			}
		} else {
			httpsUrl(field, uri, 'public');
		}
		return uri as string;
	});
};
