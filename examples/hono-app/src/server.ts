import { fileURLToPath } from 'node:url';

import { loadEnvFiles } from './load-env-files.ts';
import { readServerConfig } from './read-server-config.ts';
import { startServer } from './start-server.ts';

// the example's own directory (src/.. or dist/..): where .env and .env.local live
const appDir = fileURLToPath(new URL('..', import.meta.url));

try {
	loadEnvFiles(appDir);
	const running = await startServer(readServerConfig(process.env));

	const stop = (signal: NodeJS.Signals): void => {
		console.log(`${signal}: shutting down`);
		running.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
} catch (error) {
	// a configuration mistake: say what, without a stack trace
	console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
	process.exitCode = 1;
}
