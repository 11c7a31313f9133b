// the local network's runtime (the reference PDS, its Node 22, playwright-core and a headless
// Chromium from @sparticuz/chromium), for the end-to-end tests of packages/local-network. it is an
// npm install into packages/local-network/runtime, apart from the workspace: `pnpm start` does it
// on first use, and so does this when the tests run first. under 0.1 s when already installed.
import { installRuntime, isRuntimeInstalled } from '../../packages/local-network/scripts/install-runtime.mjs';
import { ServiceMissingError } from './service-missing-error.mjs';

const COMMAND = 'pnpm --filter @atcute-oauth/local-network install-runtime';

/** @type {import('./index.mjs').TestService} */
export const localNetworkRuntime = {
	name: 'local network runtime',
	projects: ['local-network'],
	ensure({ log, install }) {
		if (isRuntimeInstalled()) return;
		if (!install) {
			throw new ServiceMissingError(
				'local network runtime',
				`the local network's runtime is not installed (TEST_SERVICES_NO_INSTALL is set, so the tests install nothing): install it with \`${COMMAND}\`, then run the tests again`,
			);
		}
		log("test services: the local network's runtime is not installed (or is out of date); installing it:");
		try {
			installRuntime({ log: (line) => log(`test services: ${line}`) });
		} catch (error) {
			throw new ServiceMissingError(
				'local network runtime',
				`the local network's runtime could not be installed (${error instanceof Error ? error.message : error}): run \`${COMMAND}\` to see why`,
			);
		}
	},
};
