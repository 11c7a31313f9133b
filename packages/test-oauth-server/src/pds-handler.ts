import type { VerifiedProof } from './dpop.ts';
import { type Handler, readBody } from './internal/http.ts';
import { HttpError } from './internal/http-error.ts';
import { randomBase32 } from './internal/random.ts';
import { MOVED_RESOURCE_METADATA_PATH, ONE_MIB_PADDING, protectedResourceMetadata } from './metadata.ts';
import { Exchange, invalidToken, type ServerContext } from './server-context.ts';
import type { Session } from './token-store.ts';
import { verifyRequestProof } from './verify-request-proof.ts';

const AUTHORIZATION = /^(\S+)\s+(\S+)$/;

/**
 * checks an authenticated PDS call like the reference resource server: `Authorization: DPoP
 * <token>`, a valid proof with the current nonce and the token's `ath`, then the token (known,
 * current, unexpired, unrevoked) and its binding to the proof key.
 */
const authenticate = async (ctx: ServerContext, exchange: Exchange): Promise<Session> => {
	const { req } = exchange;
	const header = req.headers.authorization;
	if (header === undefined) {
		throw new HttpError(401, 'AuthMissing', 'Authentication Required');
	}
	const match = AUTHORIZATION.exec(header);
	if (match === null) {
		throw invalidToken(ctx, 'Malformed Authorization header');
	}
	const [, scheme, token] = match as unknown as [string, string, string];
	if (scheme.toLowerCase() !== 'dpop') {
		throw invalidToken(ctx, `Access token is bound to a DPoP proof, but token type is ${scheme}`);
	}

	const proof: VerifiedProof = await verifyRequestProof(ctx, exchange, 'pds', token);

	if (ctx.behaviour.invalidTokenOnce) {
		ctx.behaviour.invalidTokenOnce = false;
		throw invalidToken(ctx, 'Token expired (behaviour.invalidTokenOnce)', 'misbehaviour');
	}
	if (ctx.behaviour.refuseEveryToken) {
		throw invalidToken(ctx, 'Token expired (behaviour.refuseEveryToken)', 'misbehaviour');
	}

	const session = ctx.tokens.sessionOfToken(token);
	if (session === undefined || !ctx.tokens.accessTokens.has(token)) {
		throw invalidToken(ctx, 'Invalid token: not issued by this server');
	}
	if (session.revokedReason !== undefined) {
		throw invalidToken(ctx, `Token revoked: ${session.revokedReason}`);
	}
	if (session.accessToken !== token) {
		throw invalidToken(ctx, 'Invalid token: replaced by a refresh');
	}
	if (session.accessTokenExpiresAt <= ctx.now()) {
		throw invalidToken(ctx, 'Token expired');
	}
	if (session.jkt !== proof.jkt) {
		throw invalidToken(ctx, 'Invalid DPoP key binding');
	}
	return session;
};

const handle = async (ctx: ServerContext, exchange: Exchange): Promise<void> => {
	const { req, url, record } = exchange;
	const { behaviour } = ctx;
	const route = `${req.method} ${url.pathname}`;

	switch (route) {
		case 'GET /.well-known/oauth-protected-resource': {
			await ctx.delay(behaviour.resourceMetadataDelayMs);
			if (behaviour.redirectResourceMetadata) {
				exchange.redirect(302, ctx.urls.pds + MOVED_RESOURCE_METADATA_PATH);
				return;
			}
			serveResourceMetadata(ctx, exchange);
			return;
		}
		case `GET ${MOVED_RESOURCE_METADATA_PATH}`: {
			serveResourceMetadata(ctx, exchange);
			return;
		}
		case 'GET /xrpc/com.atproto.identity.resolveHandle': {
			const handle = url.searchParams.get('handle');
			if (handle === null || handle === '') {
				throw new HttpError(400, 'InvalidRequest', 'Error: Params must have the property "handle"');
			}
			const account = ctx.accounts.byHandle(handle);
			if (account === undefined) {
				throw new HttpError(400, 'InvalidRequest', 'Unable to resolve handle');
			}
			exchange.json(200, { did: account.did });
			return;
		}
		case 'GET /.well-known/atproto-did': {
			// answered by Host header, like the reference PDS
			const host = (req.headers.host ?? '').replace(/:\d+$/, '');
			const account = ctx.accounts.byHandle(host);
			if (account === undefined) {
				throw new HttpError(404, 'NotFound', `no user by that handle: ${host}`);
			}
			exchange.text(200, 'text/plain; charset=utf-8', account.did);
			return;
		}
		case 'GET /xrpc/com.atproto.server.getSession': {
			const session = await authenticate(ctx, exchange);
			await ctx.delay(behaviour.resourceDelayMs);
			const account = ctx.accounts.get(session.did);
			ctx.stats.resource += 1;
			exchange.json(200, { handle: account?.handle ?? 'handle.invalid', did: session.did, active: true });
			return;
		}
		case 'POST /xrpc/com.atproto.repo.createRecord': {
			const body = await readBody(req);
			record.body = body;
			const session = await authenticate(ctx, exchange);
			await ctx.delay(behaviour.resourceDelayMs);
			let input: unknown;
			try {
				input = JSON.parse(body);
			} catch {
				throw new HttpError(400, 'InvalidRequest', 'Request body is not JSON');
			}
			const { collection = 'app.bsky.feed.post', rkey = randomBase32(13) } = (input ?? {}) as {
				collection?: string;
				rkey?: string;
			};
			ctx.stats.resource += 1;
			exchange.json(200, {
				uri: `at://${session.did}/${collection}/${rkey}`,
				cid: `bafyrei${randomBase32(52)}`,
				validationStatus: 'valid',
				echo: input,
			});
			return;
		}
		default: {
			if (url.pathname.startsWith('/xrpc/')) {
				throw new HttpError(501, 'MethodNotImplemented', `Method Not Implemented: ${url.pathname}`);
			}
			throw new HttpError(404, 'NotFound', `no route for ${route}`);
		}
	}
};

const serveResourceMetadata = (ctx: ServerContext, exchange: Exchange): void => {
	const document = protectedResourceMetadata(ctx);
	if (ctx.behaviour.oversizedResourceMetadata) {
		document.padding = ONE_MIB_PADDING;
	}
	exchange.json(200, document);
};

/**
 * the fake PDS: protected resource metadata, handle resolution, and DPoP-authenticated
 * `getSession` and `createRecord`. every answer carries `DPoP-Nonce`.
 */
export const createPdsHandler = (ctx: ServerContext): Handler => {
	return async (req, res) => {
		const url = new URL(req.url ?? '/', ctx.urls.pds);
		const exchange = new Exchange(ctx, 'pds', req, res, url);
		try {
			await handle(ctx, exchange);
		} catch (err) {
			exchange.fail(err);
		}
	};
};
