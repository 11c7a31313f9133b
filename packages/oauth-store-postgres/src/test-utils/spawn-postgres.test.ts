// the binaries' copy that a test run as root makes for the server's user, in the shared temp dir:
// root runs what it finds there, so only a copy of its own, closed to others, is taken
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { binDirFor } from './spawn-postgres.mjs';

/** `nobody`: the user the copy is made for (it cannot run binaries under a private folder). */
const nobody = {
	uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })),
	gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })),
};

describe('binDirFor', () => {
	let temp: string;
	let privateBin: string;
	let copy: string;
	const savedTmp = process.env.TMPDIR;

	beforeEach(() => {
		// the shared temp dir, for this test alone
		temp = mkdtempSync(join(tmpdir(), 'spawn-postgres-test-'));
		chmodSync(temp, 0o755);
		// binaries under a folder nobody else may enter, as a checkout under /root is
		const home = mkdtempSync(join(temp, 'home-'));
		chmodSync(home, 0o700);
		privateBin = join(home, 'native', 'bin');
		mkdirSync(privateBin, { recursive: true });
		writeFileSync(join(privateBin, 'postgres'), '#!/bin/sh\necho "postgres (PostgreSQL) 99.1"\n', {
			mode: 0o755,
		});
		process.env.TMPDIR = temp;
		copy = join(temp, 'atcute-oauth-postgres-99.1-binaries');
	});
	afterEach(() => {
		if (savedTmp === undefined) delete process.env.TMPDIR;
		else process.env.TMPDIR = savedTmp;
		rmSync(temp, { recursive: true, force: true });
	});

	it('makes a copy of its own, closed to others, and takes it again', () => {
		expect(binDirFor(privateBin, nobody)).toBe(join(copy, 'bin'));
		const stats = statSync(copy);
		expect(stats.uid).toBe(process.getuid!());
		expect(stats.mode & 0o777).toBe(0o755);
		expect(binDirFor(privateBin, nobody)).toBe(join(copy, 'bin'));
	});

	it('closes to others a copy of binaries installed group-writable (under umask 002)', () => {
		chmodSync(privateBin, 0o775);
		chmodSync(join(privateBin, 'postgres'), 0o775);
		expect(binDirFor(privateBin, nobody)).toBe(join(copy, 'bin'));
		expect(statSync(join(copy, 'bin')).mode & 0o777).toBe(0o755);
		expect(statSync(join(copy, 'bin', 'postgres')).mode & 0o777).toBe(0o755);
		expect(binDirFor(privateBin, nobody)).toBe(join(copy, 'bin'));
	});

	it('refuses a copy another user put there first, rather than run what is in it', () => {
		mkdirSync(join(copy, 'bin'), { recursive: true });
		writeFileSync(join(copy, 'bin', 'postgres'), '#!/bin/sh\necho planted\n', { mode: 0o755 });
		if (process.getuid!() === 0) chownSync(copy, nobody.uid, nobody.gid);
		else chmodSync(copy, 0o777);
		expect(() => binDirFor(privateBin, nobody)).toThrow(/is not this user's own, or others can write to it/);
	});

	it('refuses a copy of its own that others can write to', () => {
		mkdirSync(join(copy, 'bin'), { recursive: true });
		chmodSync(join(copy, 'bin'), 0o777);
		expect(() => binDirFor(privateBin, nobody)).toThrow(/others can write to it/);
	});
});
