import type { PlaywrightPage } from './internal/playwright.ts';
import type { JourneyOptions, JourneyResult } from './run-http-journey.ts';
import { createStepRecorder } from './step-recorder.ts';

/** options for `runBrowserJourney`. */
export interface BrowserJourneyOptions extends JourneyOptions {
	/** the page to drive (`launchChromium().page`). */
	page: PlaywrightPage;
	/** where to save a screenshot of each page (`<prefix>-<n>.png`); default none. */
	screenshotPrefix?: string | undefined;
}

const STEP_TIMEOUT_MS = 20_000;

/**
 * the same journey in a real browser: opens the app, types the handle, signs in and consents
 * on the PDS's own pages, lands on the protected page, signs out. each step is timed.
 */
export const runBrowserJourney = async (options: BrowserJourneyOptions): Promise<JourneyResult> => {
	const { page, account } = options;
	const app = new URL(options.appUrl);
	const recorder = createStepRecorder(options.log);
	let shots = 0;
	const shot = async (): Promise<void> => {
		if (options.screenshotPrefix !== undefined) {
			await page.screenshot({ path: `${options.screenshotPrefix}-${++shots}.png` });
		}
	};
	const onApp = (path: string) => (url: URL) => url.origin === app.origin && url.pathname === path;

	await recorder.run('open the app', async () => {
		await page.goto(app.href, { timeout: STEP_TIMEOUT_MS });
		await page.locator('input[name="handle"]').waitFor({ timeout: STEP_TIMEOUT_MS });
		await shot();
		return await page.title();
	});

	await recorder.run('type the handle, go to the PDS (PAR)', async () => {
		await page.locator('input[name="handle"]').fill(account.handle);
		await page.getByRole('button', { name: 'sign in' }).click();
		await page.waitForURL((url) => url.origin !== app.origin, { timeout: STEP_TIMEOUT_MS });
		const url = new URL(page.url());
		return `→ ${url.origin}${url.pathname}`;
	});

	await recorder.run('sign in on the PDS page', async () => {
		const username = page.locator('input[name="username"]');
		await username.waitFor({ timeout: STEP_TIMEOUT_MS });
		// the client's login_hint fills it in
		if ((await username.inputValue()) === '') await username.fill(account.handle);
		await page.locator('input[name="password"]').fill(account.password);
		await shot();
		await page.getByRole('button', { name: 'Sign in' }).click();
		return 'password accepted';
	});

	await recorder.run('consent ("Authorize")', async () => {
		const authorize = page.getByRole('button', { name: /^Authorize$/i });
		await authorize.waitFor({ timeout: STEP_TIMEOUT_MS });
		await shot();
		await authorize.click();
		await page.waitForURL(onApp('/protected'), { timeout: STEP_TIMEOUT_MS });
		return `→ ${new URL(page.url()).pathname}`;
	});

	const shown = await recorder.run(
		'protected page (a live getSession on the PDS)',
		async () => {
			await shot();
			const heading = (await page.locator('h1').textContent({ timeout: STEP_TIMEOUT_MS })) ?? '';
			// the second <dd> of the account's details is its DID
			const did = (await page.locator('dl > dd:nth-of-type(2) code').textContent()) ?? '';
			const handle = heading.replace(/^hello, @/, '').trim();
			if (handle !== account.handle) throw new Error(`the protected page says "${heading}"`);
			return { handle, did: did.trim() };
		},
		(shown) => `@${shown.handle} ${shown.did}`,
	);

	await recorder.run('sign out', async () => {
		await page.getByRole('button', { name: 'sign out' }).click();
		await page.waitForURL(onApp('/'), { timeout: STEP_TIMEOUT_MS });
		await page.locator('input[name="handle"]').waitFor({ timeout: STEP_TIMEOUT_MS });
		await shot();
		return '→ / (the sign-in form again)';
	});

	return { steps: recorder.steps, ...shown };
};
