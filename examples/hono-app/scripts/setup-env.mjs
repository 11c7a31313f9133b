import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { exportJwkKey, generatePrivateKey, importJwkKey } from '@atcute/oauth-node-client';

// the example's own directory, where the server reads its env files whatever the working directory;
// another one may be named as the first argument (the tests use a copy of .env elsewhere)
const appDir =
	process.argv[2] === undefined ? fileURLToPath(new URL('..', import.meta.url)) : resolve(process.argv[2]);

const ensureEnvLocal = async () => {
	const envPath = resolve(appDir, '.env');
	const envLocalPath = resolve(appDir, '.env.local');
	if (!existsSync(envPath)) {
		console.error(`setup-env: there is no .env in ${appDir} to start .env.local from`);
		process.exit(1);
	}

	// .env.local is about to hold the private key: readable and writable by its owner only (0600),
	// from the moment it exists; one made earlier (by hand, by an older script) is tightened first
	if (!existsSync(envLocalPath)) {
		await writeFile(envLocalPath, await readFile(envPath), { mode: 0o600, flag: 'wx' });
	}
	await chmod(envLocalPath, 0o600);

	return envLocalPath;
};

const upsertEnvVar = (input, key, value) => {
	const line = `${key}=${value}`;
	const re = new RegExp(`^${key}=.*$`, 'm');

	if (re.test(input)) {
		const match = input.match(re);
		const current = match ? match[0].slice(key.length + 1) : '';
		const trimmed = current.trim();

		if (trimmed === '' || trimmed === `''` || trimmed === `""`) {
			return input.replace(re, line);
		}

		return input;
	}

	const suffix = input.endsWith('\n') || input.length === 0 ? '' : '\n';
	return `${input}${suffix}${line}\n`;
};

const envLocalPath = await ensureEnvLocal();
const envLocal = await readFile(envLocalPath, 'utf8');

const privateKey = await generatePrivateKey('main', 'ES256');
const jwk = await exportJwkKey(privateKey);

// sanity-check that the key parses before writing
await importJwkKey(jwk);

const jwkJson = JSON.stringify(jwk);
const updated = upsertEnvVar(envLocal, 'PRIVATE_KEY_JWK', `'${jwkJson}'`);

if (updated !== envLocal) {
	await writeFile(envLocalPath, updated);
	console.log(`updated ${envLocalPath}`);
} else {
	console.log(`no changes to ${envLocalPath}`);
}
