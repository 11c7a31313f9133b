import { defineConfig, type UserConfig } from 'tsdown';

/**
 * the build every library package shares: ESM with `.mjs` and `.d.mts` (matching the exports
 * maps) from `src/index.ts`. `platform` is `node` for packages that import node: modules.
 * `@atcute-oauth/internal` (private, never published) is always inlined, so no published `dist`
 * imports it at run time; every other dependency stays external, and a build that would inline
 * anything else from node_modules (a devDependency imported by mistake) fails.
 */
export const packageConfig = (platform: 'neutral' | 'node' = 'neutral'): UserConfig => {
	return defineConfig({
		entry: ['src/index.ts'],
		format: 'esm',
		platform,
		dts: true,
		fixedExtension: true,
		deps: { alwaysBundle: [/^@atcute-oauth\/internal\//], onlyBundle: [/^@atcute-oauth\/internal\//] },
	});
};
