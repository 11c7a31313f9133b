import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

import { defineConfig } from 'vitest/config';

// workspace packages export their TypeScript source under this condition, so tests (and tsc,
// through customConditions in tsconfig.base.json) run against src/ and never need a build.
const SOURCE_CONDITION = '@atcute-oauth/source';

// one vitest project per workspace package (and one for scripts/test-services); new packages are
// picked up on their own.
const projectDirs = ['packages', 'examples', 'scripts'].flatMap((group) =>
	readdirSync(group, { withFileTypes: true })
		.filter((entry) => entry.isDirectory())
		.map((entry) => `${group}/${entry.name}`),
);

// vitest runs node tests in vite's server (ssr) environment, where top-level
// resolve.conditions is ignored.
const ssr = {
	resolve: {
		conditions: [SOURCE_CONDITION, 'module', 'node', 'development|production'],
	},
};

export default defineConfig({
	ssr,
	test: {
		// the packages that child-process tests import are built once, up front
		globalSetup: ['./vitest.global-setup.ts'],
		// at least three files at a time. vitest's default is one fewer than the cores, which on a
		// two-core machine (CI's) is one: the run took 9.1 min, 2.8 of them with no test running (files
		// starting up), most of the rest waiting on child processes and servers rather than on the CPU.
		// two took it to 5.4 min; three to 4.4 (and a later full run from 469 s to 400 s, using 1.8 of
		// the 2 cores). with four, tests with tight time limits failed
		maxWorkers: Math.max(3, availableParallelism() - 1),
		// in CI also write a JSON report, from which .ci/run prints "N passed, N failed".
		reporters: process.env.CI ? ['default', 'json'] : ['default'],
		outputFile: { json: '.ci/out/vitest.json' },
		// projects do not extend the root config: they would inherit its globalSetup, which must run
		// once for the whole run, not once per project
		projects: projectDirs.map((dir) => ({
			ssr,
			test: {
				name: dir.slice(dir.indexOf('/') + 1),
				root: dir,
				include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
				// a package's own once-per-run setup (e.g. the PostgreSQL server its tests share),
				// run only when that project has tests to run
				globalSetup: existsSync(`${dir}/test/global-setup.ts`) ? [resolve(dir, 'test/global-setup.ts')] : [],
			},
		})),
	},
});
