import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lutimesSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
	INSTALL_STEP_ENV,
	installStepsIn,
	LOCK_STALE_MS,
	withInstallLock,
} from '../scripts/install-lock.mjs';

const lockModule = fileURLToPath(new URL('../scripts/install-lock.mjs', import.meta.url));

// a process that holds the lock for `holdMs`, writing `enter <pid>` and `exit <pid>` to the
// journal, and its waiting notice (if any) to stdout. it asks for the lock at `startAt` (ms since
// the epoch), so processes started one after another ask at the same instant
const installer = `
	import { appendFileSync } from 'node:fs';
	import { withInstallLock } from ${JSON.stringify(lockModule)};
	const [dir, journal, holdMs, startAt] = process.argv.slice(1);
	while (Date.now() < Number(startAt));
	withInstallLock(dir, () => {
		appendFileSync(journal, 'enter ' + process.pid + '\\n');
		Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
		appendFileSync(journal, 'exit ' + process.pid + '\\n');
	});
`;

const runInstaller = async (dir: string, journal: string, holdMs: number, startAt = 0) => {
	const child = spawn(
		process.execPath,
		['--input-type=module', '-e', installer, dir, journal, String(holdMs), String(startAt)],
		{
			stdio: ['ignore', 'pipe', 'inherit'],
		},
	);
	let stdout = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
	});
	const [code] = await once(child, 'close');
	return { code, stdout };
};

describe('withInstallLock', () => {
	let dir: string;
	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), 'install-lock-'));
	});
	afterEach(() => {
		rmSync(dir, { recursive: true, force: true });
	});

	it('lets one process at a time install; the others wait and say so', async () => {
		const journal = join(dir, 'journal');
		// the others ask while the first holds the lock, however long a loaded machine takes to start
		// them (started together, a child that came up 400 ms after another found the lock free)
		const first = runInstaller(dir, journal, 2_000);
		while (!(existsSync(journal) && readFileSync(journal, 'utf8').startsWith('enter '))) {
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
		const runs = await Promise.all([first, runInstaller(dir, journal, 400), runInstaller(dir, journal, 400)]);
		expect(runs.map((run) => run.code)).toEqual([0, 0, 0]);
		const lines = readFileSync(journal, 'utf8').trim().split('\n');
		expect(lines).toHaveLength(6);
		// every enter is followed by the same process's exit: no two installs overlapped
		for (let i = 0; i < lines.length; i += 2) {
			expect(lines[i]).toMatch(/^enter \d+$/);
			expect(lines[i + 1]).toBe(lines[i]!.replace('enter', 'exit'));
		}
		const waited = runs.filter((run) => /another install \(pid \d+\) is under way/.test(run.stdout));
		expect(waited.length).toBeGreaterThanOrEqual(1);
		expect(existsSync(join(dir, '.install.lock'))).toBe(false);
	});

	it('lets one of many waiters take over a lock whose owner is gone, and only one', {
		timeout: 60_000,
	}, async () => {
		// a killed install left its lock; the next test runs start together. two waiters that both
		// found the owner dead once both removed the lock (the second removing the first's new one)
		for (let trial = 0; trial < 5; trial++) {
			const gone = spawnSync(process.execPath, ['-e', '']).pid!;
			symlinkSync(String(gone), join(dir, '.install.lock'));
			const journal = join(dir, `journal-${trial}`);
			const startAt = Date.now() + 600;
			const runs = await Promise.all([1, 2, 3, 4].map(() => runInstaller(dir, journal, 100, startAt)));
			expect(runs.map((run) => run.code)).toEqual([0, 0, 0, 0]);
			const lines = readFileSync(journal, 'utf8').trim().split('\n');
			expect(lines).toHaveLength(8);
			for (let i = 0; i < lines.length; i += 2) {
				expect(lines[i + 1]).toBe(lines[i]!.replace('enter', 'exit'));
			}
			expect(existsSync(join(dir, '.install.lock'))).toBe(false);
		}
	});

	it('takes over a lock whose owner is gone', () => {
		// a pid that ran and exited: its lock was left behind by a kill mid-install
		const gone = spawnSync(process.execPath, ['-e', '']).pid!;
		symlinkSync(String(gone), join(dir, '.install.lock'));
		const lines: string[] = [];
		expect(withInstallLock(dir, () => 'installed', { log: (line) => lines.push(line) })).toBe('installed');
		expect(lines).toEqual([]);
		expect(existsSync(join(dir, '.install.lock'))).toBe(false);
	});

	it('gives up after its timeout, naming the process that holds the lock', async () => {
		// a live process that is not this one: its lock is not taken over
		const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
		try {
			symlinkSync(String(holder.pid), join(dir, '.install.lock'));
			let ran = false;
			expect(() =>
				withInstallLock(
					dir,
					() => {
						ran = true;
					},
					{ log: () => {}, timeoutMs: 300 },
				),
			).toThrow(`another install (pid ${holder.pid}) still holds`);
			expect(ran).toBe(false);
		} finally {
			holder.kill('SIGKILL');
			await once(holder, 'exit');
		}
	});

	it('takes over a lock that names this very process (a pid reused, in a container say)', () => {
		symlinkSync(String(process.pid), join(dir, '.install.lock'));
		const lines: string[] = [];
		expect(withInstallLock(dir, () => 'installed', { log: (line) => lines.push(line), timeoutMs: 300 })).toBe(
			'installed',
		);
		expect(lines).toEqual([expect.stringContaining(`it names pid ${process.pid}, this very process`)]);
	});

	it('takes over a lock held longer than any install, though its pid runs (reused)', async () => {
		const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
		try {
			const lockPath = join(dir, '.install.lock');
			symlinkSync(String(other.pid), lockPath);
			const old = (Date.now() - LOCK_STALE_MS - 60_000) / 1000;
			lutimesSync(lockPath, old, old);
			const lines: string[] = [];
			expect(
				withInstallLock(dir, () => 'installed', { log: (line) => lines.push(line), timeoutMs: 300 }),
			).toBe('installed');
			expect(lines).toEqual([expect.stringMatching(`it names pid ${other.pid}, and is 2[01] minutes old`)]);
		} finally {
			other.kill('SIGKILL');
			await once(other, 'exit');
		}
	});

	it('waits for the steps of an install whose owner died before installing beside them', async () => {
		// npm ci carries on after a Ctrl-C killed the installer that started it
		const ended = join(dir, 'step-ended');
		const step = spawn(
			process.execPath,
			['-e', `setTimeout(() => require('node:fs').writeFileSync(${JSON.stringify(ended)}, ''), 1500)`],
			{ stdio: 'ignore', env: { ...process.env, [INSTALL_STEP_ENV]: dir } },
		);
		try {
			await new Promise((resolve) => setTimeout(resolve, 200));
			expect(installStepsIn(dir).map(({ pid }) => pid)).toEqual([step.pid]);
			const gone = spawnSync(process.execPath, ['-e', '']).pid!;
			symlinkSync(String(gone), join(dir, '.install.lock'));
			const lines: string[] = [];
			const seen = withInstallLock(dir, () => ({ ended: existsSync(ended), steps: installStepsIn(dir) }), {
				log: (line) => lines.push(line),
			});
			expect(seen).toEqual({ ended: true, steps: [] });
			expect(lines).toEqual([expect.stringContaining(`pid ${step.pid}`)]);
			expect(lines[0]).toContain('waiting for it to end');
		} finally {
			step.kill('SIGKILL');
		}
	});

	it('releases the lock when the install fails', () => {
		expect(() =>
			withInstallLock(dir, () => {
				throw new Error('npm ci failed');
			}),
		).toThrow('npm ci failed');
		expect(existsSync(join(dir, '.install.lock'))).toBe(false);
		expect(withInstallLock(dir, () => 2)).toBe(2);
	});
});
