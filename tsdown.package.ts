import { defineConfig, type UserConfig } from 'tsdown';

/**
 * the build every library package shares: ESM with `.mjs` and `.d.mts` (matching the exports
 * maps) from `src/index.ts`. `platform` is `node` for packages that import node: modules.
 * `@atcute-oauth/internal` (private, never published) is always inlined, so no published `dist`
 * imports it at run time; every other dependency stays external, and a build that would inline
 * anything else from node_modules (a devDependency imported by mistake) fails. doc comments stay
 * in the `.d.mts` (where editors read them) and leave the `.mjs`: node parses every byte of a
 * module at import, and they were a quarter of the bytes (about 5 ms of importing the facade).
 */
export const packageConfig = (platform: 'neutral' | 'node' = 'neutral'): UserConfig => {
	return defineConfig({
		entry: ['src/index.ts'],
		format: 'esm',
		platform,
		dts: true,
		fixedExtension: true,
		outputOptions: { comments: { jsdoc: false, legal: true, annotation: true } },
		deps: { alwaysBundle: [/^@atcute-oauth\/internal\//], onlyBundle: [/^@atcute-oauth\/internal\//] },
	});
};
