import { keepUsableFields } from './internal/keep-usable-fields.ts';
import {
	asDocument,
	type DocumentContext,
	describeValue,
	fail,
	requireIncludes,
	requireOrigin,
	requireStringArray,
	requireTrue,
	requireUrl,
} from './internal/metadata-fields.ts';

/**
 * authorization server metadata, as validated for atproto: the fields a client uses, in their wire
 * spelling, and up to 64 other fields whose values are JSON scalars or arrays of strings.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 * @see https://atproto.com/specs/oauth#authorization-servers
 */
export interface AuthorizationServerMetadata {
	/** the issuer: an origin, equal to the one asked for. */
	readonly issuer: string;
	/**
	 * where the user is sent to sign in and consent, an https URL.
	 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
	 */
	readonly authorization_endpoint: string;
	/**
	 * where codes and refresh tokens are traded for tokens, an https URL.
	 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
	 */
	readonly token_endpoint: string;
	/**
	 * where an authorization request is pushed (PAR) before the user is sent, an https URL.
	 * @see https://www.rfc-editor.org/rfc/rfc9126#section-5
	 */
	readonly pushed_authorization_request_endpoint: string;
	/**
	 * `true`: every authorization request goes through PAR.
	 * @see https://www.rfc-editor.org/rfc/rfc9126#section-5
	 */
	readonly require_pushed_authorization_requests: true;
	/** includes `code`. */
	readonly response_types_supported: readonly string[];
	/** includes `authorization_code` and `refresh_token`. */
	readonly grant_types_supported: readonly string[];
	/** includes `S256`. */
	readonly code_challenge_methods_supported: readonly string[];
	/** includes `private_key_jwt` and `none`. */
	readonly token_endpoint_auth_methods_supported: readonly string[];
	/** includes `ES256`. */
	readonly token_endpoint_auth_signing_alg_values_supported: readonly string[];
	/** includes `ES256`. */
	readonly dpop_signing_alg_values_supported: readonly string[];
	/** includes `atproto`. */
	readonly scopes_supported: readonly string[];
	/**
	 * `true`: the redirect back carries `iss`, checked against the issuer.
	 * @see https://www.rfc-editor.org/rfc/rfc9207#section-3
	 */
	readonly authorization_response_iss_parameter_supported: true;
	/**
	 * `true`: the server reads a client's metadata from its `client_id` URL.
	 * @see https://atproto.com/specs/oauth#client-id-metadata-document
	 */
	readonly client_id_metadata_document_supported: true;
	/** the RFC 7009 endpoint, when the server has one. */
	readonly revocation_endpoint?: string | undefined;
	/** the resources this server protects, when it lists them. */
	readonly protected_resources?: readonly string[] | undefined;
	/**
	 * another field of the document, unchecked: kept when its value is a string, number, boolean,
	 * `null` or an array of strings, for the first 64 such fields; any other is dropped.
	 */
	readonly [field: string]: unknown;
}

/** what `validateAuthorizationServerMetadata` checks the document against. */
export interface ValidateAuthorizationServerMetadataOptions {
	/** the issuer the document was fetched for; `issuer` must equal it. */
	issuer: string;
	/** the document URL, for error messages. */
	url: string;
	/**
	 * when given, the PDS origin we came from: `protected_resources`, if present, must include it.
	 */
	resource?: string | undefined;
	/**
	 * accept `http:` issuer and endpoints; default false.
	 *
	 * > [!WARNING]
	 * > For local development only: see `FetchJsonDocumentOptions.allowHttp`.
	 */
	allowHttp?: boolean | undefined;
}

const NAME = 'authorization server metadata';

/** the endpoints a client uses, each an https URL. */
const REQUIRED_URLS = [
	'authorization_endpoint',
	'token_endpoint',
	'pushed_authorization_request_endpoint',
] as const;

/** the flags atproto requires to be `true`. */
const REQUIRED_TRUE = [
	// atproto sends every authorization request through PAR, with DPoP from the first request
	'require_pushed_authorization_requests',
	// RFC 9207: without iss in the callback we could not tell which server answered
	'authorization_response_iss_parameter_supported',
	// our client_id is the URL of our metadata document; a server that cannot fetch it cannot know us
	'client_id_metadata_document_supported',
] as const;

/** the lists atproto requires, with the values each must include. */
const REQUIRED_VALUES: ReadonlyArray<readonly [string, readonly string[]]> = [
	['response_types_supported', ['code']],
	['grant_types_supported', ['authorization_code', 'refresh_token']],
	// PKCE with S256 only: plain would hand the verifier to whoever sees the redirect
	['code_challenge_methods_supported', ['S256']],
	['token_endpoint_auth_methods_supported', ['private_key_jwt', 'none']],
	['token_endpoint_auth_signing_alg_values_supported', ['ES256']],
	['dpop_signing_alg_values_supported', ['ES256']],
	['scopes_supported', ['atproto']],
];

/** the fields `AuthorizationServerMetadata` declares: always kept once checked. */
const DECLARED: ReadonlySet<string> = new Set([
	'issuer',
	...REQUIRED_URLS,
	...REQUIRED_TRUE,
	...REQUIRED_VALUES.map(([field]) => field),
	'revocation_endpoint',
	'protected_resources',
]);

/** whether metadata vouches for `resource`: it lists no `protected_resources`, or lists it. */
export const protectsResource = (metadata: AuthorizationServerMetadata, resource: string): boolean =>
	metadata.protected_resources === undefined || metadata.protected_resources.includes(resource);

/**
 * refuses metadata whose `protected_resources` (when present) does not list `resource`: the
 * server does not vouch for that PDS. compared as strings, like the reference client.
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-4
 */
export const assertProtectsResource = (
	metadata: AuthorizationServerMetadata,
	resource: string,
	url: string,
): void => {
	if (!protectsResource(metadata, resource)) {
		const context: DocumentContext = { name: NAME, url, allowHttp: true };
		fail(context, 'protected_resources', `must include ${describeValue(resource)}`, 'mismatch');
	}
};

/**
 * checks authorization server metadata against the atproto profile: the issuer (code `mismatch`
 * when it is not the one asked for), https endpoints, PAR required, PKCE S256, DPoP and client
 * assertions with ES256 (never `none`), `private_key_jwt` and `none` as auth methods, the
 * `atproto` scope, RFC 9207 `iss`, `require_request_uri_registration` not false, and client ID
 * metadata documents. messages name the field. returns a new object: the declared fields, and
 * the first 64 others whose values are JSON scalars or arrays of strings.
 * @see https://atproto.com/specs/oauth#authorization-servers
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.3
 */
export const validateAuthorizationServerMetadata = (
	value: unknown,
	options: ValidateAuthorizationServerMetadataOptions,
): AuthorizationServerMetadata => {
	const context: DocumentContext = { name: NAME, url: options.url, allowHttp: options.allowHttp ?? false };
	const document = asDocument(context, value);

	// mix-up defence: the metadata must be the issuer's own, at exactly the identifier we asked for
	const issuer = requireOrigin(context, 'issuer', document.issuer);
	if (issuer !== options.issuer) {
		fail(
			context,
			'issuer',
			`must be ${describeValue(options.issuer)}, got ${describeValue(issuer)}`,
			'mismatch',
		);
	}

	for (const field of REQUIRED_URLS) requireUrl(context, field, document[field]);
	for (const field of REQUIRED_TRUE) requireTrue(context, field, document[field]);
	for (const [field, values] of REQUIRED_VALUES) requireIncludes(context, field, document[field], values);

	// atproto: "must not include none" (a client assertion signed with none is no assertion)
	const algs = document.token_endpoint_auth_signing_alg_values_supported as readonly unknown[];
	if (algs.includes('none')) {
		fail(context, 'token_endpoint_auth_signing_alg_values_supported', 'must not include "none"');
	}
	// atproto: "must not be false" (absent means true, RFC 8414): a client's redirects are its own
	if (document.require_request_uri_registration === false) {
		fail(context, 'require_request_uri_registration', 'must not be false');
	}
	if (document.revocation_endpoint !== undefined) {
		requireUrl(context, 'revocation_endpoint', document.revocation_endpoint);
	}
	if (document.protected_resources !== undefined) {
		requireStringArray(context, 'protected_resources', document.protected_resources);
	}

	// a new object, not the parsed document: it is cached and shared, so it holds only what a caller
	// can use, never the thousands of tiny values a hostile server can pack into its 64 KiB
	const metadata = keepUsableFields(document, DECLARED) as unknown as AuthorizationServerMetadata;
	if (options.resource !== undefined) assertProtectsResource(metadata, options.resource, options.url);
	return metadata;
};
