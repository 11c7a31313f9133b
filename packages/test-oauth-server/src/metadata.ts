import type { ServerContext } from './server-context.ts';

/** the path the authorization server metadata moves to with `behaviour.redirectMetadata`. */
export const MOVED_AS_METADATA_PATH = '/moved/.well-known/oauth-authorization-server';

/** the path the protected resource metadata moves to with `behaviour.redirectResourceMetadata`. */
export const MOVED_RESOURCE_METADATA_PATH = '/moved/.well-known/oauth-protected-resource';

/** one MiB of padding, for the oversized documents. */
export const ONE_MIB_PADDING: string = 'x'.repeat(1024 * 1024);

const applyOverrides = (
	document: Record<string, unknown>,
	overrides: Record<string, unknown> | undefined,
): Record<string, unknown> => {
	if (overrides === undefined) return document;
	const merged = { ...document, ...overrides };
	for (const [field, value] of Object.entries(overrides)) {
		if (value === undefined) delete merged[field];
	}
	return merged;
};

/**
 * the authorization server metadata, with the reference server's atproto profile.
 * @see https://atproto.com/specs/oauth#authorization-servers
 */
export const authorizationServerMetadata = (ctx: ServerContext): Record<string, unknown> => {
	const { issuer, pds } = ctx.urls;
	const { options } = ctx;
	const document: Record<string, unknown> = {
		issuer,
		scopes_supported: [...options.scopesSupported],
		subject_types_supported: ['public'],
		response_types_supported: ['code'],
		response_modes_supported: ['query', 'fragment', 'form_post'],
		grant_types_supported: ['authorization_code', 'refresh_token'],
		code_challenge_methods_supported: ['S256'],
		ui_locales_supported: ['en-US'],
		display_values_supported: ['page', 'popup', 'touch'],
		request_parameter_supported: false,
		request_uri_parameter_supported: true,
		require_request_uri_registration: true,
		jwks_uri: `${issuer}/oauth/jwks`,
		authorization_endpoint: `${issuer}/oauth/authorize`,
		token_endpoint: `${issuer}/oauth/token`,
		token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
		token_endpoint_auth_signing_alg_values_supported: [...options.authSigningAlgs],
		revocation_endpoint: `${issuer}/oauth/revoke`,
		pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
		require_pushed_authorization_requests: true,
		dpop_signing_alg_values_supported: [...options.dpopSigningAlgs],
		authorization_response_iss_parameter_supported: true,
		protected_resources: [pds],
		client_id_metadata_document_supported: true,
		prompt_values_supported: ['none', 'login', 'consent', 'select_account', 'create'],
	};
	return applyOverrides(document, ctx.behaviour.metadataOverrides);
};

/**
 * the protected resource metadata of the PDS.
 * @see https://atproto.com/specs/oauth#authorization-servers
 */
export const protectedResourceMetadata = (ctx: ServerContext): Record<string, unknown> => {
	const document: Record<string, unknown> = {
		resource: ctx.urls.pds,
		authorization_servers: [ctx.urls.issuer],
		scopes_supported: [],
		bearer_methods_supported: ['header'],
		resource_documentation: 'https://atproto.com',
	};
	return applyOverrides(document, ctx.behaviour.resourceMetadataOverrides);
};
