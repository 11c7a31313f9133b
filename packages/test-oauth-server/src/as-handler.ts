import { authorizationPage, CONSENT_PATH, consent } from './authorization-page.ts';
import { type Handler, parseParams, readBody } from './internal/http.ts';
import { HttpError } from './internal/http-error.ts';
import { authorizationServerMetadata, MOVED_AS_METADATA_PATH, ONE_MIB_PADDING } from './metadata.ts';
import { pushedAuthorizationRequest } from './par-endpoint.ts';
import { revokeEndpoint } from './revoke-endpoint.ts';
import { Exchange, type ServerContext } from './server-context.ts';
import { tokenEndpoint } from './token-endpoint.ts';

const OAUTH_ENDPOINTS = new Set(['/oauth/par', '/oauth/token', '/oauth/revoke']);

const serveMetadata = (ctx: ServerContext, exchange: Exchange): void => {
	const document = authorizationServerMetadata(ctx);
	if (ctx.behaviour.oversizedMetadata) {
		document.padding = ONE_MIB_PADDING;
	}
	exchange.text(200, ctx.behaviour.metadataContentType ?? 'application/json', JSON.stringify(document), {
		'cache-control': 'max-age=300',
	});
};

const handle = async (ctx: ServerContext, exchange: Exchange): Promise<void> => {
	const { req, url } = exchange;
	const { behaviour } = ctx;
	const path = url.pathname;

	if (OAUTH_ENDPOINTS.has(path)) {
		if (req.method !== 'POST') {
			// RFC 9126 §2.3 and the reference server: 405 for anything but POST
			throw new HttpError(405, 'invalid_request', `${req.method} is not allowed on ${path}`);
		}
		const params = parseParams(req, await readBody(req));
		if (path === '/oauth/par') {
			await ctx.delay(behaviour.parDelayMs);
			await pushedAuthorizationRequest(ctx, exchange, params);
		} else if (path === '/oauth/token') {
			await tokenEndpoint(ctx, exchange, params);
		} else {
			await revokeEndpoint(ctx, exchange, params);
		}
		return;
	}

	switch (`${req.method} ${path}`) {
		case 'GET /.well-known/oauth-authorization-server': {
			await ctx.delay(behaviour.metadataDelayMs);
			if (behaviour.redirectMetadata) {
				exchange.redirect(302, ctx.urls.issuer + MOVED_AS_METADATA_PATH);
				return;
			}
			serveMetadata(ctx, exchange);
			return;
		}
		case `GET ${MOVED_AS_METADATA_PATH}`: {
			serveMetadata(ctx, exchange);
			return;
		}
		case 'GET /oauth/jwks': {
			exchange.json(200, { keys: [ctx.signer.publicJwk] });
			return;
		}
		case 'GET /oauth/authorize': {
			try {
				authorizationPage(ctx, exchange);
			} catch (err) {
				exchange.failPage(err);
			}
			return;
		}
		case `POST ${CONSENT_PATH}`: {
			try {
				consent(ctx, exchange, parseParams(req, await readBody(req)));
			} catch (err) {
				exchange.failPage(err);
			}
			return;
		}
		default:
			throw new HttpError(404, 'not_found', `no route for ${req.method} ${path}`);
	}
};

/**
 * the fake authorization server: metadata, PAR, the authorization page, token and revocation.
 * every answer carries `DPoP-Nonce`.
 */
export const createAsHandler = (ctx: ServerContext): Handler => {
	return async (req, res) => {
		const url = new URL(req.url ?? '/', ctx.urls.issuer);
		const exchange = new Exchange(ctx, 'as', req, res, url);
		try {
			await handle(ctx, exchange);
		} catch (err) {
			exchange.fail(err);
		}
	};
};
