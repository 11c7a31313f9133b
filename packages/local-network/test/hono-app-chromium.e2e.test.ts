import { randomBytes } from 'node:crypto';

import { exportJwkKey, generatePrivateKey, SessionNotFoundError } from '@atcute/oauth-node-client';
import { type RunningServer, startServer } from '@atcute-oauth/example-hono-app';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	type ChromiumSession,
	type LocalNetwork,
	launchChromium,
	runBrowserJourney,
	startLocalNetwork,
	startPlayground,
	startTlsProxy,
	type TlsProxy,
} from '../src/index.ts';
import { START_TIMEOUT_MS, TEST_TIMEOUT_MS } from './helpers.ts';

let network: LocalNetwork;
let proxy: TlsProxy;
let app: RunningServer;
let chromium: ChromiumSession;
const appErrors: unknown[] = [];

beforeAll(async () => {
	network = await startLocalNetwork({ traceRequests: true });
	// the app behind https, as behind a tunnel: its client_id must be an https URL the PDS fetches
	proxy = await startTlsProxy({ tls: network.tls });
	app = await startServer({
		port: 0,
		publicUrl: proxy.url,
		privateKeyJwk: JSON.stringify(await exportJwkKey(await generatePrivateKey('main', 'ES256'))),
		cookieSecret: randomBytes(32).toString('base64url'),
		plcUrl: network.plcUrl,
		handleResolverUrl: network.pdsUrl,
		allowHttp: true,
		log: () => {},
		warn: () => {},
		logError: (_message, error) => appErrors.push(error),
	});
	proxy.target = app.listenUrl;
	chromium = await launchChromium({
		loopbackHosts: network.tls.hostnames,
		trustedSpki: [network.tls.spkiSha256],
	});
}, START_TIMEOUT_MS);

afterAll(async () => {
	await chromium?.close();
	await app?.close();
	await proxy?.close();
	await network?.close();
});

describe('examples/hono-app in headless Chromium, against the reference PDS', () => {
	it(
		'signs in through the real sign-in and consent pages, shows the handle from the PDS, signs out',
		async () => {
			const alice = network.accounts[0]!;
			expect(app.mode).toBe('confidential');
			expect(app.oauth.metadata).toMatchObject({
				client_id: `${proxy.url}/oauth-client-metadata.json`,
				token_endpoint_auth_method: 'private_key_jwt',
				token_endpoint_auth_signing_alg: 'ES256',
			});

			const lines: string[] = [];
			const journey = await runBrowserJourney({
				page: chromium.page,
				appUrl: app.url,
				account: alice,
				log: (line) => lines.push(line),
			});

			// the protected page showed what the PDS said, live
			expect(journey.handle).toBe(alice.handle);
			expect(journey.did).toBe(alice.did);
			expect(journey.steps.map((step) => step.name)).toEqual([
				'open the app',
				'type the handle, go to the PDS (PAR)',
				'sign in on the PDS page',
				'consent ("Authorize")',
				'protected page (a live getSession on the PDS)',
				'sign out',
			]);
			expect(lines).toHaveLength(6);

			// what the PDS saw: PAR, the pages, the code exchange, the live call, the revocation
			const seen = (await network.syncRequests()).map((r) => `${r.method} ${r.path} ${r.status}`);
			expect(seen).toEqual(
				expect.arrayContaining([
					'POST /oauth/par 201',
					'GET /oauth/authorize 200',
					'POST /oauth/token 200',
					'GET /xrpc/com.atproto.server.getSession 200',
					'POST /oauth/revoke 200',
				]),
			);
			// signed out: the app holds no session any more
			await expect(app.oauth.restore(alice.did)).rejects.toBeInstanceOf(SessionNotFoundError);
			expect(appErrors).toEqual([]);
		},
		TEST_TIMEOUT_MS,
	);
});

describe('the interactive playground (what `pnpm start` serves)', () => {
	it(
		'is a loopback client on http://127.0.0.1 that a browser on this machine signs in to',
		async () => {
			const playground = await startPlayground({ port: 0, handle: 'erin.test', password: 'erin-password' });
			// a browser of its own: no TLS, no host mapping, nothing but loopback
			const browser = await launchChromium();
			try {
				expect(playground.app.mode).toBe('loopback');
				expect(playground.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
				expect(playground.account).toMatchObject({ handle: 'erin.test', password: 'erin-password' });

				const journey = await runBrowserJourney({
					page: browser.page,
					appUrl: playground.url,
					account: playground.account,
				});
				expect(journey).toMatchObject({ handle: 'erin.test', did: playground.account.did });
			} finally {
				await browser.close();
				await playground.close();
			}
		},
		START_TIMEOUT_MS,
	);
});
