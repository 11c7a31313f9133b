// one install at a time per folder, across processes. two test runs started together on a fresh
// clone (two terminals, or vitest runs side by side) each found the runtime missing and ran
// `npm ci` and node-gyp in the same folder at once: each deleted the other's build files, and both
// failed. the lock is a symbolic link whose target is the owner's pid: made in one atomic step
// with its owner named, so there is no moment where a lock has no owner. a lock whose owner is
// gone (killed mid-install) is taken over.
// runs on plain Node >= 20 with no dependencies, synchronously, as the installer does.
import { readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** how often a waiting process looks at the lock again. */
const POLL_MS = 250;

const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** whether a process with this pid runs (EPERM: it runs, as another user). */
const isAlive = (pid) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return error?.code === 'EPERM';
	}
};

/** the owner's pid, or undefined when the lock is gone or not one of ours. */
const ownerOf = (lockPath) => {
	try {
		const pid = Number(readlinkSync(lockPath));
		return Number.isInteger(pid) && pid > 0 ? pid : undefined;
	} catch {
		return undefined;
	}
};

const unlinkIfThere = (path) => {
	try {
		unlinkSync(path);
	} catch (error) {
		if (error?.code !== 'ENOENT') throw error;
	}
};

/**
 * runs `fn` holding the install lock of `dir` (the link `<dir>/.install.lock`), waiting while
 * another process holds it (saying so once through `log`), and returns what `fn` returns. `fn`
 * must check again whether there is still work to do: the holder before it may have done it.
 * @param {string} dir the folder being installed into (it must exist)
 * @param {() => T} fn the install
 * @param {{ log?: (line: string) => void; timeoutMs?: number }} [options] `timeoutMs` (default
 *   30 minutes) bounds the wait
 * @returns {T}
 * @template T
 */
export const withInstallLock = (
	dir,
	fn,
	{ log = (line) => console.log(line), timeoutMs = 30 * 60_000 } = {},
) => {
	const lockPath = join(dir, '.install.lock');
	const deadline = Date.now() + timeoutMs;
	let told = false;
	for (;;) {
		try {
			symlinkSync(String(process.pid), lockPath);
			break;
		} catch (error) {
			if (error?.code !== 'EEXIST') throw error;
		}
		const owner = ownerOf(lockPath);
		if (owner === undefined || !isAlive(owner)) {
			// its owner died mid-install (or the link is not ours): what it left is redone by `fn`,
			// whose marker is written last. two waiters taking over at the same instant could both
			// win; a dead owner and two waiters racing within microseconds is left at that
			unlinkIfThere(lockPath);
			continue;
		}
		if (Date.now() > deadline) {
			throw new Error(`another install (pid ${owner}) still holds ${lockPath} after ${timeoutMs / 1000} s`);
		}
		if (!told) {
			log(`runtime: another install (pid ${owner}) is under way in ${dir}; waiting for it`);
			told = true;
		}
		sleepSync(POLL_MS);
	}
	try {
		return fn();
	} finally {
		// only our own lock: never one a waiter took over from us (it could not: we are alive)
		if (ownerOf(lockPath) === process.pid) unlinkIfThere(lockPath);
	}
};
