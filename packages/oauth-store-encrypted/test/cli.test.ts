// the key tool as users run it: the package's bin, a real child process on the built package.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { generateStoreKey } from '../src/generate-store-key.ts';
import { parseStoreKeys } from '../src/parse-store-keys.ts';
import { run } from './run-node.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const BIN = fileURLToPath(new URL(`../${PACKAGE.bin['oauth-store-encrypted']}`, import.meta.url));

describe('oauth-store-encrypted (bin)', () => {
	it('is an executable node script', () => {
		expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
		expect(statSync(BIN).mode & 0o111).not.toBe(0);
	});

	it('generate-key prints a new "id:secret" line that the key ring takes', async () => {
		const first = await run(BIN, ['generate-key']);
		const second = await run(BIN, ['generate-key']);
		expect(first.code).toBe(0);
		expect(first.stdout).toMatch(/^key-\d{8}-[0-9a-f]{6}:[A-Za-z0-9_-]{43}\n$/);
		// two keys made the same day get different ids, which one ring can hold
		expect(second.stdout.split(':')[0]).not.toBe(first.stdout.split(':')[0]);
		const ring = await run(BIN, ['check-env', 'KEYS'], {
			KEYS: `${second.stdout.trim()},${first.stdout.trim()}`,
		});
		expect(ring.code).toBe(0);
		const [key] = parseStoreKeys(first.stdout);
		expect(Buffer.from(key!.secret, 'base64url')).toHaveLength(32);
	});

	it('generate-key --id names the key', async () => {
		const { code, stdout } = await run(BIN, ['generate-key', '--id', 'prod-2026-12']);
		expect(code).toBe(0);
		expect(stdout).toMatch(/^prod-2026-12:[A-Za-z0-9_-]{43}\n$/);
	});

	it('generate-key --id=<id> names the key too', async () => {
		const { code, stdout } = await run(BIN, ['generate-key', '--id=prod-2026-12']);
		expect(code).toBe(0);
		expect(stdout).toMatch(/^prod-2026-12:[A-Za-z0-9_-]{43}\n$/);
	});

	it('generate-key refuses an id the ring would refuse', async () => {
		const { code, stdout, stderr } = await run(BIN, ['generate-key', '--id', 'has space']);
		expect(code).toBe(1);
		expect(stdout).toBe('');
		expect(stderr).toContain('id must be');
	});

	it('generate-key refuses an id shaped like a secret, as the ring does, without printing it', async () => {
		// base64url: one secret in 64 starts with "-", which the parser reads as an option (exit 2)
		let secret = generateStoreKey('x').secret;
		while (secret.startsWith('-')) secret = generateStoreKey('x').secret;
		const { code, stdout, stderr } = await run(BIN, ['generate-key', '--id', secret]);
		expect(code).toBe(1);
		expect(stdout).toBe('');
		expect(stderr).toContain('looks like a secret');
		expect(stderr).not.toContain(secret.slice(0, 10));
	});

	it('generate-key refuses an id of 64 hex digits (openssl rand -hex 32), without printing it', async () => {
		const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');
		const { code, stdout, stderr } = await run(BIN, ['generate-key', '--id', hex]);
		expect(code).toBe(1);
		expect(stdout).toBe('');
		expect(stderr).toContain('looks like a secret (hex of 32 bytes or more)');
		expect(stderr).not.toContain(hex.slice(0, 10));
	});

	it.each([
		[['generate-key', '--bogus'], 'unknown option "--bogus"'],
		[['generate-key', '--id'], '--id needs a value'],
		[['generate-key', '--id', 'a', '--id', 'b'], '--id is given twice'],
		[['generate-key', 'extra'], 'takes no arguments'],
		[['check-env'], 'expects one environment variable name'],
		[['check-env', '--verbose', 'KEYS'], 'unknown option "--verbose"'],
		[[], 'no command given'],
	])('names the problem with %j before the usage, exit code 2', async (args, problem) => {
		const { code, stdout, stderr } = await run(BIN, args);
		expect(code).toBe(2);
		expect(stdout).toBe('');
		const [first, ...rest] = stderr.split('\n');
		expect(first).toContain(problem);
		expect(rest.join('\n')).toContain('usage:');
	});

	it('never repeats an argument that could be a secret', async () => {
		const secret = `-${generateStoreKey('x').secret.slice(1)}`;
		for (const args of [['generate-key', secret], [secret], ['check-env', `a:${secret}`]]) {
			const { code, stderr } = await run(BIN, args);
			expect(code).toBe(2);
			expect(stderr).not.toContain(secret.slice(1, 11));
		}
	});

	it.each([['generate-key', '--help'], ['check-env', '-h'], ['--help']])(
		'prints its usage for %s %s and exits 0',
		async (...args) => {
			const { code, stdout, stderr } = await run(BIN, args);
			expect(code).toBe(0);
			expect(stdout).toContain('usage:');
			expect(stderr).toBe('');
		},
	);

	it('check-env refuses one secret under two ids, naming the positions and ids only', async () => {
		const { secret } = generateStoreKey('x');
		const { code, stderr } = await run(BIN, ['check-env', 'KEYS'], { KEYS: `new:${secret},old:${secret}` });
		expect(code).toBe(1);
		expect(stderr).toContain('KEYS[1] (id "old") has the same secret as KEYS[0] (id "new")');
		expect(stderr).not.toContain(secret.slice(0, 10));
	});

	it('check-env prints the key ids of a valid ring and never a secret', async () => {
		const fresh = (await run(BIN, ['generate-key', '--id', 'new'])).stdout.trim();
		const old = generateStoreKey('old');
		const { code, stdout, stderr } = await run(BIN, ['check-env', 'OAUTH_STORE_KEYS'], {
			OAUTH_STORE_KEYS: `${fresh},old:${old.secret}`,
		});
		expect(stderr).toBe('');
		expect(code).toBe(0);
		expect(stdout).toBe('OAUTH_STORE_KEYS: 2 key(s) [new, old]; new encrypts\n');
	});

	it('check-env fails on a secret of the wrong length without printing it', async () => {
		const secret = `${generateStoreKey('x').secret}XYZW`;
		const { code, stdout, stderr } = await run(BIN, ['check-env', 'KEYS'], { KEYS: `a:${secret}` });
		expect(code).toBe(1);
		// the variable and the position, as parseStoreKeys numbers them
		expect(stderr).toContain('KEYS[0].secret');
		expect(`${stdout}${stderr}`).not.toContain(secret.slice(0, 10));
	});

	it('check-env fails on an unset variable, naming it', async () => {
		const { code, stderr } = await run(BIN, ['check-env', 'SURELY_NOT_SET_H11']);
		expect(code).toBe(1);
		expect(stderr).toBe('check-env: SURELY_NOT_SET_H11 is not set\n');
	});

	it('check-env fails on an empty variable, naming it', async () => {
		const { code, stderr } = await run(BIN, ['check-env', 'KEYS'], { KEYS: '' });
		expect(code).toBe(1);
		expect(stderr).toContain('KEYS is empty');
	});

	it('check-env never repeats a secret pasted in place of the name', async () => {
		// a secret with no "-" that starts with a letter has the shape of a variable's name
		let secret: string;
		do secret = generateStoreKey('x').secret;
		while (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(secret));
		const { code, stdout, stderr } = await run(BIN, ['check-env', secret]);
		expect(code).toBe(1);
		expect(stderr).toContain('is not set');
		expect(`${stdout}${stderr}`).not.toContain(secret.slice(0, 10));
	});

	it('prints its usage for an unknown command', async () => {
		const { code, stderr } = await run(BIN, ['rotate-everything']);
		expect(code).toBe(2);
		expect(stderr).toContain('usage:');
	});
});
