import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PlaywrightBrowserContext, PlaywrightChromium, PlaywrightPage } from './internal/playwright.ts';
import { findRuntime } from './runtime.ts';

/** options for `launchChromium`. */
export interface LaunchChromiumOptions {
	/** the browser binary; default the runtime's (`findRuntime().chromiumPath`, from `@sparticuz/chromium`). */
	executablePath?: string | undefined;
	/** host names that resolve to 127.0.0.1 in the browser (a client host: `network.tls.hostnames`). */
	loopbackHosts?: readonly string[] | undefined;
	/** SHA-256 SPKI hashes of certificates to accept (`network.tls.spkiSha256`). */
	trustedSpki?: readonly string[] | undefined;
}

/** a running headless Chromium with one page. */
export interface ChromiumSession {
	context: PlaywrightBrowserContext;
	page: PlaywrightPage;
	/** closes the browser and deletes its profile. */
	close(): Promise<void>;
}

// without the background-networking flags Chromium keeps trying Google's hosts, which this
// machine's closed network refuses; the sandbox needs privileges a CI container lacks. not the
// serverless flags @sparticuz/chromium suggests (--disable-web-security and the like): the
// journey must meet the same cookie and origin rules as a user's browser.
const FLAGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

/**
 * starts headless Chromium (the runtime's, unless told otherwise) through the runtime's
 * playwright-core, with a fresh profile.
 * @throws {RuntimeNotInstalledError} when the runtime is not installed
 */
export const launchChromium = async (options: LaunchChromiumOptions = {}): Promise<ChromiumSession> => {
	const runtime = findRuntime();
	const executablePath = options.executablePath ?? runtime.chromiumPath;
	// playwright-core lives in the runtime folder, not in the workspace (it is heavy)
	const require = createRequire(join(runtime.dir, 'package.json'));
	const { chromium } = require('playwright-core') as { chromium: PlaywrightChromium };

	const args = [...FLAGS];
	const hosts = options.loopbackHosts ?? [];
	if (hosts.length > 0)
		args.push(`--host-resolver-rules=${hosts.map((host) => `MAP ${host} 127.0.0.1`).join(', ')}`);
	// trust exactly the test certificate, not every certificate
	if (options.trustedSpki?.length)
		args.push(`--ignore-certificate-errors-spki-list=${options.trustedSpki.join(',')}`);

	const profile = mkdtempSync(join(tmpdir(), 'atcute-chromium-'));
	let context: PlaywrightBrowserContext;
	try {
		context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args });
	} catch (error) {
		rmSync(profile, { recursive: true, force: true });
		throw error;
	}
	const page = context.pages()[0] ?? (await context.newPage());
	return {
		context,
		page,
		async close() {
			await context.close().catch(() => {});
			rmSync(profile, { recursive: true, force: true });
		},
	};
};
