import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv, promisify } from 'node:util';

import { importJwkKey } from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createOAuthClient } from '../src/index.ts';
import { PUBLIC_URL } from './helpers.ts';

const run = promisify(execFile);

const appDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(appDir, '..', '..');
const script = join(appDir, 'scripts', 'setup-env.mjs');

/** whether plain node (no source condition) can load the facade from this example: its dist/. */
const facadeLoads = async (): Promise<boolean> => {
	try {
		await run(process.execPath, ['--input-type=module', '-e', "await import('@atcute/oauth-node-client')"], {
			cwd: appDir,
		});
		return true;
	} catch {
		return false;
	}
};

let dir: string;

beforeAll(async () => {
	// the script imports '@atcute/oauth-node-client' at run time, which resolves to the built
	// facade: build it (and what it depends on) when it is not there yet
	if (!(await facadeLoads())) {
		await run('pnpm', ['--filter', '@atcute/oauth-node-client...', 'build'], { cwd: repoRoot });
	}
	// inside the example, so the script's imports resolve through its node_modules (gitignored)
	dir = await mkdtemp(join(appDir, '.tmp-setup-env-'));
	await copyFile(join(appDir, '.env'), join(dir, '.env'));
}, 180_000);

afterAll(async () => {
	if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('scripts/setup-env.mjs', () => {
	it('writes .env.local with a fresh ES256 key, then leaves it alone', async () => {
		const envLocalPath = join(dir, '.env.local');

		// run from elsewhere: the directory named is the one it writes in, never the working one
		const first = await run(process.execPath, [script, dir], { cwd: tmpdir() });
		expect(first.stdout.trim()).toBe(`updated ${envLocalPath}`);

		const written = await readFile(envLocalPath, 'utf8');
		// it holds the private key: readable by its owner only
		expect((await stat(envLocalPath)).mode & 0o777).toBe(0o600);
		// the committed placeholders are kept; only the key is filled in
		expect(written).toMatch(/^PRIVATE_KEY_JWK='\{.*\}'$/m);
		expect(written).toMatch(/^PUBLIC_URL=$/m);
		expect(written).toMatch(/^PORT=$/m);
		expect(written).toMatch(/^COOKIE_SECRET=$/m);

		const jwkJson = written.match(/^PRIVATE_KEY_JWK='(.*)'$/m)![1]!;
		const jwk = JSON.parse(jwkJson);
		expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'main', alg: 'ES256' });
		const key = await importJwkKey(jwkJson);
		expect(key.kid).toBe('main');
		expect(key.alg).toBe('ES256');

		// node's env parser (what the server uses) strips the quotes back to the JSON
		expect(parseEnv(written).PRIVATE_KEY_JWK).toBe(jwkJson);
		const oauth = await createOAuthClient({
			publicUrl: PUBLIC_URL,
			privateKeyJwk: parseEnv(written).PRIVATE_KEY_JWK,
		});
		expect(oauth.jwks?.keys[0]).toMatchObject({ kid: 'main', alg: 'ES256', x: jwk.x, y: jwk.y });

		// a .env.local left readable by others (an older script, a copy) is made owner-only again
		await chmod(envLocalPath, 0o644);
		const second = await run(process.execPath, [script, dir], { cwd: tmpdir() });
		expect(second.stdout.trim()).toBe(`no changes to ${envLocalPath}`);
		expect(await readFile(envLocalPath, 'utf8')).toBe(written);
		expect((await stat(envLocalPath)).mode & 0o777).toBe(0o600);
	});

	it('writes beside the example it belongs to when no directory is named, from any working directory', async () => {
		// a copy of the example's layout: <app>/.env and <app>/scripts/setup-env.mjs
		const app = await mkdtemp(join(appDir, '.tmp-setup-env-own-'));
		try {
			await mkdir(join(app, 'scripts'));
			await copyFile(script, join(app, 'scripts', 'setup-env.mjs'));
			await copyFile(join(appDir, '.env'), join(app, '.env'));
			const result = await run(process.execPath, [join(app, 'scripts', 'setup-env.mjs')], { cwd: tmpdir() });
			expect(result.stdout.trim()).toBe(`updated ${join(app, '.env.local')}`);
			expect(parseEnv(await readFile(join(app, '.env.local'), 'utf8')).PRIVATE_KEY_JWK).toMatch(/^\{.*\}$/);
		} finally {
			await rm(app, { recursive: true, force: true });
		}
	});

	it('says which directory has no .env, and writes nothing', async () => {
		const empty = await mkdtemp(join(tmpdir(), 'setup-env-empty-'));
		try {
			const failed = await run(process.execPath, [script, empty], { cwd: tmpdir() }).then(
				() => undefined,
				(error: { code: number; stderr: string }) => error,
			);
			expect(failed?.code).toBe(1);
			expect(failed?.stderr.trim()).toBe(`setup-env: there is no .env in ${empty} to start .env.local from`);
			await expect(stat(join(empty, '.env.local'))).rejects.toThrow(/ENOENT/);
		} finally {
			await rm(empty, { recursive: true, force: true });
		}
	});
});
