import { randomBytes } from 'node:crypto';

import { exportJwkKey, generatePrivateKey } from '@atcute/oauth-node-client';
import { type RunningServer, startServer } from '@atcute-oauth/example-hono-app';

import { launchChromium } from './launch-chromium.ts';
import { runBrowserJourney } from './run-browser-journey.ts';
import { type JourneyResult, runHttpJourney } from './run-http-journey.ts';
import { type LocalNetwork, startLocalNetwork } from './start-local-network.ts';
import { startTlsProxy, type TlsProxy } from './start-tls-proxy.ts';
import { createStepRecorder, type JourneyStep } from './step-recorder.ts';

/** options for `runHeadlessDemo`. */
export interface HeadlessDemoOptions {
	/** who plays the user: `http` (default; plain requests, about 1 s) or `chromium` (the real pages). */
	driver?: 'http' | 'chromium' | undefined;
	/** a line per step; default none. */
	log?: ((line: string) => void) | undefined;
}

/** what the demo did. */
export interface HeadlessDemoResult extends JourneyResult {
	/** every step, setup and teardown included. */
	steps: JourneyStep[];
	/** the whole run, in milliseconds. */
	totalMs: number;
}

/**
 * the whole flow, by itself: starts the local network, serves the example app as the seed's
 * confidential client (`private_key_jwt`, ES256, metadata and JWKS over https behind a TLS
 * proxy, as behind a tunnel), signs in as the test account, sees the protected page, signs out,
 * and stops everything. each step is timed; throws at the first step that fails.
 */
export const runHeadlessDemo = async (options: HeadlessDemoOptions = {}): Promise<HeadlessDemoResult> => {
	const started = performance.now();
	const log = options.log ?? (() => {});
	const driver = options.driver ?? 'http';
	const setup = createStepRecorder(log);
	const appErrors: string[] = [];

	let network: LocalNetwork | undefined;
	let proxy: TlsProxy | undefined;
	let app: RunningServer | undefined;
	let journey: JourneyResult | undefined;
	try {
		network = await setup.run(
			'start the local network (in-memory PLC + reference PDS)',
			() => startLocalNetwork({ accounts: [{ handle: 'alice.test' }] }),
			(network) =>
				`PDS ${network.pdsUrl} on Node ${network.nodeVersion}, account ${network.accounts[0]?.handle}`,
		);
		const local = network;
		const account = local.accounts[0]!;

		app = await setup.run(
			'start the example app as a confidential client',
			async () => {
				proxy = await startTlsProxy({ tls: local.tls });
				const running = await startServer({
					port: 0,
					publicUrl: proxy.url,
					privateKeyJwk: JSON.stringify(await exportJwkKey(await generatePrivateKey('main', 'ES256'))),
					cookieSecret: randomBytes(32).toString('base64url'),
					// the local network's identities: its PLC, handles through its PDS, plain http
					plcUrl: local.plcUrl,
					handleResolverUrl: local.pdsUrl,
					allowHttp: true,
					log: () => {},
					warn: () => {},
					logError: (message, error) =>
						appErrors.push(
							`${message} ${error instanceof Error ? `${error.name}: ${error.message}` : error}`,
						),
				});
				proxy.target = running.listenUrl;
				return running;
			},
			(running) => `${running.url} → ${running.listenUrl} (client_id ${running.oauth.metadata.client_id})`,
		);

		if (driver === 'chromium') {
			const chromium = await setup.run('start headless Chromium', () =>
				launchChromium({ loopbackHosts: local.tls.hostnames, trustedSpki: [local.tls.spkiSha256] }),
			);
			try {
				journey = await runBrowserJourney({ page: chromium.page, appUrl: app.url, account, log });
			} finally {
				await chromium.close();
			}
		} else {
			journey = await runHttpJourney({
				appUrl: app.url,
				account,
				ca: local.tls.ca,
				loopbackHosts: local.tls.hostnames,
				log,
			});
		}
	} catch (error) {
		for (const line of appErrors) log(`    app: ${line}`);
		throw error;
	} finally {
		await setup.run('stop everything', async () => {
			await app?.close();
			await proxy?.close();
			await network?.close();
			return network === undefined ? '' : `PDS process ${network.pid} stopped, data deleted`;
		});
	}

	const steps = [...setup.steps.slice(0, -1), ...journey.steps, ...setup.steps.slice(-1)];
	return { ...journey, steps, totalMs: Math.round(performance.now() - started) };
};
