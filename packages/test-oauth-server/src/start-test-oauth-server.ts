import { createAccessTokenSigner } from './access-token-signer.ts';
import { AccountStore } from './accounts.ts';
import { createAsHandler } from './as-handler.ts';
import { playAuthorization } from './authorize.ts';
import type { TestServerBehaviour } from './behaviour.ts';
import { ClientRegistry } from './client-registry.ts';
import { closeServer, type Handler, type Listening, listen } from './internal/http.ts';
import { type ResolvedOptions, resolveOptions, type TestOAuthServerOptions } from './options.ts';
import { createPdsHandler } from './pds-handler.ts';
import { createPlcHandler } from './plc-handler.ts';
import { newNonce, type ServerContext } from './server-context.ts';
import { clearStats, createStats } from './stats.ts';
import type { TestOAuthServer } from './test-oauth-server.ts';
import { TokenStore } from './token-store.ts';

/**
 * starts a fake PLC directory, PDS and authorization server on 127.0.0.1, each on a free port,
 * that verify every DPoP proof and client assertion like the reference atproto server, and
 * misbehave on request through `server.behaviour`.
 */
export const startTestOAuthServer = async (options?: TestOAuthServerOptions): Promise<TestOAuthServer> => {
	const resolved: ResolvedOptions = resolveOptions(options);
	const behaviour: TestServerBehaviour = {};
	const urls = { plc: '', pds: '', issuer: '' };
	const timers = new Set<NodeJS.Timeout>();
	let closed = false;

	const ctx: ServerContext = {
		options: resolved,
		behaviour,
		stats: createStats(),
		urls,
		accounts: new AccountStore(),
		clients: new ClientRegistry(),
		tokens: new TokenStore(),
		signer: await createAccessTokenSigner(() => urls.issuer),
		nonces: { as: newNonce(), pds: newNonce() },
		seenProofJtis: { as: new Set(), pds: new Set() },
		seenAssertionJtis: new Set(),
		now: () => resolved.now() + (behaviour.clockSkewSeconds ?? 0) * 1000,
		delay: (ms) => {
			if (!ms || ms <= 0 || closed) return Promise.resolve();
			return new Promise<void>((resolve) => {
				const timer = setTimeout(() => {
					timers.delete(timer);
					resolve();
				}, ms);
				timers.add(timer);
			});
		},
	};

	const started: Listening[] = [];
	const start = async (handler: Handler): Promise<string> => {
		const listening = await listen(handler, resolved.keepAliveTimeout, resolved.tls, resolved.host);
		started.push(listening);
		return listening.origin;
	};
	try {
		urls.plc = await start(createPlcHandler(ctx));
		urls.pds = await start(createPdsHandler(ctx));
		urls.issuer = await start(createAsHandler(ctx));
	} catch (err) {
		await Promise.all(started.map(({ server }) => closeServer(server)));
		throw err;
	}

	return {
		plcUrl: urls.plc,
		pdsUrl: urls.pds,
		issuer: urls.issuer,
		behaviour,
		stats: ctx.stats,
		nonces: ctx.nonces,

		createAccount(accountOptions) {
			const { did, handle } = ctx.accounts.create(accountOptions);
			return { did, handle };
		},
		updateAccount(did, patch) {
			ctx.accounts.update(did, patch);
		},
		deleteAccount(did) {
			ctx.accounts.delete(did);
		},

		registerClient(metadata) {
			ctx.clients.register(metadata);
		},
		unregisterClient(clientId) {
			ctx.clients.unregister(clientId);
		},

		authorize(authorizationUrl, authorizeOptions) {
			return playAuthorization(urls.issuer, authorizationUrl, authorizeOptions);
		},

		rotateNonce(server) {
			if (server !== 'pds') ctx.nonces.as = newNonce();
			if (server !== 'as') ctx.nonces.pds = newNonce();
		},
		expireAccessTokens(did) {
			const past = ctx.now() - 1000;
			// a revoked session refuses its tokens before their expiry is looked at
			for (const session of ctx.tokens.active()) {
				if (did === undefined || session.did === did) session.accessTokenExpiresAt = past;
			}
		},
		revokeAllTokensFor(did, reason = 'revoked by the server') {
			let count = 0;
			for (const session of ctx.tokens.active()) {
				if (session.did === did && ctx.tokens.revoke(session, reason)) count += 1;
			}
			return count;
		},
		sessions(did, sessionsOptions) {
			return ctx.tokens.list(did, sessionsOptions?.active === true);
		},

		assertNoRejections() {
			const { rejections } = ctx.stats;
			if (rejections.length === 0) return;
			const lines = rejections.map(
				(r) => `  ${r.server} ${r.method} ${r.path} → ${r.status} ${r.error}: ${r.reason}`,
			);
			throw new Error(`the test server refused ${rejections.length} request(s):\n${lines.join('\n')}`);
		},
		reset() {
			for (const key of Object.keys(behaviour)) {
				delete behaviour[key as keyof TestServerBehaviour];
			}
			clearStats(ctx.stats);
		},
		async close() {
			closed = true;
			for (const timer of timers) clearTimeout(timer);
			timers.clear();
			await Promise.all(started.map(({ server }) => closeServer(server)));
		},
	};
};
