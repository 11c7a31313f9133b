import { defineConfig } from 'tsdown';

export default defineConfig({
	entry: ['src/index.ts'],
	format: 'esm',
	platform: 'node',
	dts: true,
	// .mjs and .d.mts on every platform, matching the exports map
	fixedExtension: true,
});
