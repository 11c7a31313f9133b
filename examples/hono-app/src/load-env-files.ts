import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** the env files read, most specific first: `.env.local` (this developer's, with the key), then `.env`. */
export const ENV_FILES: readonly string[] = ['.env.local', '.env'];

/**
 * loads `.env.local` and `.env` from `dir` into `process.env` with node's own parser
 * (`process.loadEnvFile`, Node 20.12 and later). a variable already set wins: the real
 * environment over `.env.local`, and `.env.local` over `.env`. returns the files read.
 */
export const loadEnvFiles = (dir: string): string[] => {
	const loaded: string[] = [];
	for (const name of ENV_FILES) {
		const path = join(dir, name);
		if (!existsSync(path)) continue;
		process.loadEnvFile(path);
		loaded.push(path);
	}
	return loaded;
};
