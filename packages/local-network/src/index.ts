export { type AuthorizeWithPasswordOptions, authorizeWithPassword } from './authorize-with-password.ts';
export { createTlsMaterial, type TlsMaterial, type TlsMaterialOptions } from './create-tls-material.ts';
export type {
	PlaywrightBrowserContext,
	PlaywrightLocator,
	PlaywrightPage,
} from './internal/playwright.ts';
export {
	type ChromiumSession,
	type LaunchChromiumOptions,
	launchChromium,
} from './launch-chromium.ts';
export { type BrowserJourneyOptions, runBrowserJourney } from './run-browser-journey.ts';
export {
	type HeadlessDemoOptions,
	type HeadlessDemoResult,
	runHeadlessDemo,
} from './run-headless-demo.ts';
export {
	type HttpJourneyOptions,
	type JourneyOptions,
	type JourneyResult,
	readProtectedPage,
	runHttpJourney,
} from './run-http-journey.ts';
export { findRuntime, RUNTIME_DIR, type Runtime, runtimeLockHash } from './runtime.ts';
export { INSTALL_RUNTIME_COMMAND, RuntimeNotInstalledError } from './runtime-not-installed-error.ts';
export {
	type AccountSpec,
	type LocalAccount,
	type LocalNetwork,
	type LocalNetworkOptions,
	type PdsRequest,
	startLocalNetwork,
} from './start-local-network.ts';
export { type Playground, type PlaygroundOptions, startPlayground } from './start-playground.ts';
export { startTlsProxy, type TlsProxy, type TlsProxyOptions } from './start-tls-proxy.ts';
export { createStepRecorder, type JourneyStep, type StepRecorder } from './step-recorder.ts';
