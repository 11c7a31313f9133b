import { defineConfig } from 'tsdown';

export default defineConfig({
	// server.ts is the runnable entry (`node dist/server.mjs`); index.ts is for code that starts
	// the app in-process (an e2e harness, a CLI)
	entry: ['src/server.ts', 'src/index.ts'],
	format: 'esm',
	platform: 'node',
	// a private example: no declarations to publish
	dts: false,
	// .mjs on every platform, matching the exports map and the start script
	fixedExtension: true,
});
