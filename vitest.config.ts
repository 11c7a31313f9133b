import { readdirSync } from 'node:fs';

import { defineConfig } from 'vitest/config';

// workspace packages export their TypeScript source under this condition, so tests (and tsc,
// through customConditions in tsconfig.base.json) run against src/ and never need a build.
const SOURCE_CONDITION = '@atcute-oauth/source';

// one vitest project per workspace package; new packages are picked up on their own.
const projectDirs = ['packages', 'examples'].flatMap((group) =>
	readdirSync(group, { withFileTypes: true })
		.filter((entry) => entry.isDirectory())
		.map((entry) => `${group}/${entry.name}`),
);

export default defineConfig({
	// vitest runs node tests in vite's server (ssr) environment, where top-level
	// resolve.conditions is ignored.
	ssr: {
		resolve: {
			conditions: [SOURCE_CONDITION, 'module', 'node', 'development|production'],
		},
	},
	test: {
		// in CI also write a JSON report, from which .ci/run prints "N passed, N failed".
		reporters: process.env.CI ? ['default', 'json'] : ['default'],
		outputFile: { json: '.ci/out/vitest.json' },
		projects: projectDirs.map((dir) => ({
			extends: true,
			test: {
				name: dir.slice(dir.indexOf('/') + 1),
				root: dir,
				include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
			},
		})),
	},
});
