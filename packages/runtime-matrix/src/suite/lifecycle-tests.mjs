// the session lifecycle beyond the seed: refresh on restore, invalid_grant, close(), encryptStore, keys, nonces,
// streams, abort, error classes, structuredClone. runtime-neutral (no node: imports).
import { Client } from '@atcute/client';
import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';

import { equal, ok, rejects } from './harness.mjs';

let seq = 0;

/** signs in one account; returns { oauth, session, account, events }. */
const signIn = async ({ control, lib, alg = 'ES256', stores, keyset: givenKeyset, label }) => {
	const { plcUrl, pdsUrl } = await control.urls();
	seq += 1;
	const account = await control.createAccount(`${label}-${seq}.test`.toLowerCase());
	const keyset = givenKeyset ?? [await lib.generatePrivateKey('main', alg)];
	const oauth = new lib.OAuthClient({
		metadata: {
			client_id: `https://app.example.com/${label}-${seq}/oauth-client-metadata.json`,
			redirect_uris: ['https://app.example.com/oauth/callback'],
			scope: ['transition:generic'],
		},
		keyset,
		stores: stores ?? { sessions: new lib.MemoryStore(), states: new lib.MemoryStore() },
		actorResolver: new LocalActorResolver({
			handleResolver: new XrpcHandleResolver({ serviceUrl: pdsUrl }),
			didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: plcUrl }),
		}),
		allowHttp: true,
	});
	const events = [];
	oauth.addEventListener((event) => events.push(event));
	await control.registerClient(oauth.metadata);
	const { url } = await oauth.authorize({ target: { type: 'account', identifier: account.handle } });
	const params = await control.authorize(url, account.did);
	const { session } = await oauth.callback(new URLSearchParams(String(params)));
	return { oauth, session, account, events };
};

export const addLifecycleTests = (suite, { control, lib, label }) => {
	const t = (name, fn) =>
		suite.test(`lifecycle ${label}: ${name}`, async () => {
			try {
				await fn();
			} finally {
				await control.resetBehaviour();
			}
		});

	t('restore() after the access token expired locally refreshes once', async () => {
		await control.setBehaviour({ accessTokenTtl: 1 });
		const { oauth, account } = await signIn({ control, lib, label: `${label}-ttl` });
		await control.resetBehaviour();
		await new Promise((r) => setTimeout(r, 1500));
		const restored = await oauth.restore(account.did);
		equal((await control.statsFor(account.did)).refreshes, 1, 'refreshes');
		const res = await new Client({ handler: restored }).get('com.atproto.server.getSession');
		ok(res.ok, 'getSession');
		await oauth.close();
	});

	t('invalid_grant ends the session with a deleted event', async () => {
		const { oauth, account, events } = await signIn({ control, lib, label: `${label}-ig` });
		await control.revokeAllTokensFor(account.did);
		const err = await rejects(oauth.restore(account.did, { refresh: true }), 'TokenRefreshError', 'refresh');
		ok(err instanceof lib.TokenRefreshError, 'instanceof TokenRefreshError');
		ok(err instanceof Error, 'instanceof Error');
		const nf = await rejects(oauth.restore(account.did), 'SessionNotFoundError', 'restore after');
		ok(nf instanceof lib.SessionNotFoundError, 'instanceof SessionNotFoundError');
		// close() waits for the work under way: the session's end, and its event, are done by then
		await oauth.close();
		const deleted = events.find((e) => e.type === 'deleted');
		equal(deleted?.cause, 'invalid_grant', 'deleted cause');
	});

	t('close() refuses new work with ClientClosedError', async () => {
		const { oauth, account } = await signIn({ control, lib, label: `${label}-close` });
		await oauth.close();
		const err = await oauth.restore(account.did, { refresh: true }).catch((e) => e);
		ok(err instanceof lib.ClientClosedError, `ClientClosedError: ${err?.name} ${err?.message}`);
	});

	t('session.signOut() twice, then handle() rejects', async () => {
		const { oauth, session, account, events } = await signIn({ control, lib, label: `${label}-so` });
		await session.signOut();
		await session.signOut();
		equal((await control.statsFor(account.did)).activeGrants, 0, 'active grants');
		const res = await new Client({ handler: session }).get('com.atproto.server.getSession').catch((e) => e);
		equal(res?.name, 'SessionNotFoundError', 'handle after sign-out');
		await oauth.close();
		ok(
			events.some((e) => e.type === 'deleted' && e.cause === 'signed_out'),
			'signed_out event',
		);
	});

	t('encryptStore round trip through a sign-in and refresh', async () => {
		const key = lib.generateStoreKey('k1');
		const keys = lib.parseStoreKeys(`${key.id}:${key.secret}`, 'KEYS');
		const raw = new lib.MemoryStore();
		const stores = {
			sessions: lib.encryptStore(raw, { keys }),
			states: lib.encryptStore(new lib.MemoryStore(), { keys }),
		};
		const { oauth, account } = await signIn({ control, lib, stores, label: `${label}-enc` });
		const stored = await raw.get(account.did);
		ok(!JSON.stringify(stored).includes('refresh'), `ciphertext: ${JSON.stringify(stored).slice(0, 200)}`);
		const restored = await oauth.restore(account.did, { refresh: true });
		const res = await new Client({ handler: restored }).get('com.atproto.server.getSession');
		ok(res.ok, 'getSession');
		// tampered entry
		const other = lib.encryptStore(raw, {
			keys: lib.parseStoreKeys(`${lib.generateStoreKey('k2').id}:${lib.generateStoreKey('k2').secret}`, 'K'),
		});
		const err = await other.get(account.did).catch((e) => e);
		ok(err instanceof lib.StoreDecryptionError, `StoreDecryptionError: ${err}`);
	});

	for (const alg of ['ES384', 'ES512', 'PS256', 'RS256']) {
		t(
			`${alg} key in the keyset beside an ES256 one (PKCS#8 and JWK round trips), refresh, PKCS#8 and JWK round trips`,
			async () => {
				const key = await lib.generatePrivateKey('alt', alg).catch((e) => e);
				if (key instanceof Error) throw key;
				const pem = await lib.exportPkcs8Key(key);
				ok(pem.startsWith('-----BEGIN PRIVATE KEY-----'), 'pem');
				const fromPem = await lib.importPkcs8Key(pem, { kid: 'alt', alg });
				const jwk = await lib.exportJwkKey(fromPem);
				const fromJwk = await lib.importJwkKey(JSON.stringify(jwk));
				const es256 = await lib.importPkcs8Key(
					await lib.exportPkcs8Key(await lib.generatePrivateKey('main', 'ES256')),
					{ kid: 'main' },
				);
				// the refusals this lane's earlier tests left are not this test's
				const earlier = (await control.rejections()).length;
				const { oauth, account } = await signIn({
					control,
					lib,
					keyset: [es256, fromJwk],
					label: `${label}-${alg}`,
				});
				equal(
					oauth.metadata.jwks.keys.map((k) => k.alg),
					['ES256', alg],
					'jwks algs',
				);
				await oauth.restore(account.did, { refresh: true });
				equal((await control.statsFor(account.did)).refreshes, 1, 'refreshes');
				const refused = (await control.rejections())
					.slice(earlier)
					.filter(
						(line) =>
							!line.includes(' 401 invalid_token: ') &&
							!line.includes('revoked by the server') &&
							!line.includes('503'),
					);
				equal(refused, [], 'refusals');
			},
		);
	}

	t('importJwkKey refuses junk with InvalidKeyError', async () => {
		const err = await lib.importJwkKey('{"kty":"EC"}').catch((e) => e);
		ok(err instanceof lib.InvalidKeyError, `InvalidKeyError: ${err}`);
		ok(err instanceof TypeError, 'TypeError');
		equal(err.code, 'ERR_INVALID_KEY', 'code');
		equal(err.name, 'InvalidKeyError', 'name');
	});

	t('DPoP nonce rotated on every PDS request', async () => {
		const { session, account } = await signIn({ control, lib, label: `${label}-nonce` });
		const client = new Client({ handler: session });
		await control.setBehaviour({ rotateNonceEveryRequest: true });
		for (let i = 0; i < 3; i++) {
			const res = await client.get('com.atproto.server.getSession');
			ok(res.ok, `getSession ${i}: ${JSON.stringify(res.data)}`);
		}
		await control.resetBehaviour();
		await control.rotateNonce();
		const res = await client.post('com.atproto.repo.createRecord', {
			input: { repo: account.did, collection: 'app.example.note', record: { text: 'x' } },
		});
		ok(res.ok, `createRecord: ${JSON.stringify(res.data)}`);
	});

	t('a streamed request body (nonce probe), then nonce rotated', async () => {
		const { session, account } = await signIn({ control, lib, label: `${label}-stream` });
		const body = JSON.stringify({ repo: account.did, collection: 'app.example.note', record: { text: 's' } });
		const mk = () =>
			new ReadableStream({
				start(c) {
					c.enqueue(new TextEncoder().encode(body));
					c.close();
				},
			});
		const r1 = await session.handle('/xrpc/com.atproto.repo.createRecord', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: mk(),
			duplex: 'half',
		});
		equal(r1.status, 200, `stream status ${await r1.clone().text()}`);
		await r1.text();
	});

	t('a response body cancelled', async () => {
		const { session } = await signIn({ control, lib, label: `${label}-cancel` });
		const r = await session.handle('/xrpc/com.atproto.server.getSession', { method: 'GET' });
		await r.body?.cancel();
		const r2 = await session.handle('/xrpc/com.atproto.server.getSession', { method: 'GET' });
		equal(r2.status, 200, 'second');
		await r2.text();
	});

	t('AbortSignal.timeout on a slow PDS call', async () => {
		const { session } = await signIn({ control, lib, label: `${label}-abort` });
		await control.setBehaviour({ resourceDelayMs: 2000 });
		const err = await session
			.handle('/xrpc/com.atproto.server.getSession', { method: 'GET', signal: AbortSignal.timeout(200) })
			.then((r) => r.status)
			.catch((e) => e);
		ok(err?.name === 'TimeoutError' || err?.name === 'AbortError', `aborted: ${err?.name} ${err}`);
	});

	t('structuredClone of a stored session, and restore from the clone', async () => {
		const sessions = new lib.MemoryStore();
		const { oauth, account } = await signIn({
			control,
			lib,
			stores: { sessions, states: new lib.MemoryStore() },
			label: `${label}-clone`,
		});
		const stored = await sessions.get(account.did);
		const cloned = structuredClone(stored);
		const json = JSON.parse(JSON.stringify(stored));
		const other = new lib.MemoryStore();
		await other.set(account.did, json);
		await sessions.set(account.did, cloned);
		const restored = await oauth.restore(account.did, { refresh: true });
		ok(restored.did === account.did, 'restored');
	});

	t('refresh failing with a 503 is transient and keeps the session', async () => {
		const { oauth, account } = await signIn({ control, lib, label: `${label}-503` });
		await control.setBehaviour({ refreshFailure: 'status_503' });
		const err = await oauth.restore(account.did, { refresh: true }).catch((e) => e);
		ok(err instanceof lib.OAuthTransientError, `transient: ${err?.name} ${err?.message}`);
		await control.resetBehaviour();
	});
};
