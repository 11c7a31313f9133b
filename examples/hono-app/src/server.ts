import { fileURLToPath } from 'node:url';

import { loadEnvFiles } from './load-env-files.ts';
import { readServerConfig } from './read-server-config.ts';
import { startServer } from './start-server.ts';

// the example's own directory (src/.. or dist/..): where .env and .env.local live
const appDir = fileURLToPath(new URL('..', import.meta.url));

try {
	loadEnvFiles(appDir);
	const running = await startServer(readServerConfig(process.env));

	let stopping = false;
	const stop = (signal: NodeJS.Signals): void => {
		// a second signal (Ctrl-C twice, a supervisor's SIGINT then SIGTERM) must not cut short the
		// first shutdown: a refresh whose tokens are on their way to the store would be lost
		if (stopping) {
			console.log(`${signal}: already shutting down`);
			return;
		}
		stopping = true;
		console.log(`${signal}: shutting down`);
		running.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
} catch (error) {
	// a configuration mistake: say what, without a stack trace
	console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
	process.exitCode = 1;
}
