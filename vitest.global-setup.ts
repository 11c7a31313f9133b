import { execFileSync } from 'node:child_process';

import type { TestProject } from 'vitest/node';

import { prepareTestServices, ServiceMissingError } from './scripts/test-services/index.mjs';

/**
 * runs once, before any test file starts.
 *
 * first the services the run's projects need (scripts/test-services: redis-server, the local
 * network's runtime with its Chromium), installed when missing and possible, saying so. when one
 * cannot be had, the run stops here with one line naming it and the command that installs it,
 * rather than as failures (or a teardown's TypeError) in every file that needs it.
 *
 * then the packages are built. most tests run on the TypeScript sources, but those that spawn
 * real child processes (cross-process locks, the demo, the setup script) run plain node on the
 * built packages; building here, once, means no test file rebuilds `dist` while another file's
 * children are reading it. turbo's cache makes this about a second.
 */
export default function setup(project: TestProject): void {
	try {
		prepareTestServices({ projects: project.vitest.projects.map((each) => each.name) });
	} catch (error) {
		if (!(error instanceof ServiceMissingError)) throw error;
		// the one line, and nothing else: no stack, no test file started
		console.error(`\n${error.message}\n`);
		process.exit(1);
	}
	execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
		stdio: 'inherit',
		env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
	});
}
