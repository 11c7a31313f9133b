// the part of playwright-core's API this package uses. playwright-core is installed in the
// runtime folder, outside the workspace, so its own types are not available to tsc here.

export interface PlaywrightLocator {
	click(options?: { timeout?: number }): Promise<void>;
	fill(value: string, options?: { timeout?: number }): Promise<void>;
	inputValue(options?: { timeout?: number }): Promise<string>;
	waitFor(options?: {
		state?: 'attached' | 'detached' | 'visible' | 'hidden';
		timeout?: number;
	}): Promise<void>;
	textContent(options?: { timeout?: number }): Promise<string | null>;
}

export interface PlaywrightPage {
	goto(url: string, options?: { timeout?: number }): Promise<unknown>;
	url(): string;
	title(): Promise<string>;
	locator(selector: string): PlaywrightLocator;
	getByRole(role: string, options?: { name?: string | RegExp }): PlaywrightLocator;
	waitForURL(url: string | RegExp | ((url: URL) => boolean), options?: { timeout?: number }): Promise<void>;
	screenshot(options?: { path?: string }): Promise<unknown>;
}

export interface PlaywrightBrowserContext {
	pages(): PlaywrightPage[];
	newPage(): Promise<PlaywrightPage>;
	close(): Promise<void>;
}

export interface PlaywrightChromium {
	launchPersistentContext(
		userDataDir: string,
		options: { executablePath?: string; headless?: boolean; args?: string[]; ignoreHTTPSErrors?: boolean },
	): Promise<PlaywrightBrowserContext>;
}
