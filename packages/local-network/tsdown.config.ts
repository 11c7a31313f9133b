import { defineConfig } from 'tsdown';

export default defineConfig({
	// bin/*.mjs import dist/index.mjs; tests and typecheck use src/ through the source condition
	entry: ['src/index.ts'],
	format: 'esm',
	platform: 'node',
	// a private package: no declarations to publish
	dts: false,
	fixedExtension: true,
});
