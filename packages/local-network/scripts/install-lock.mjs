// one install at a time per folder, across processes. two test runs started together on a fresh
// clone (two terminals, or vitest runs side by side) each found the runtime missing and ran
// `npm ci` and node-gyp in the same folder at once: each deleted the other's build files, and both
// failed. the lock is a symbolic link whose target is the owner's pid: made in one atomic step
// with its owner named, so there is no moment where a lock has no owner. a lock whose owner is
// gone (killed mid-install) is taken over.
// runs on plain Node >= 20 with no dependencies, synchronously, as the installer does.
import { lstatSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** how often a waiting process looks at the lock again. */
const POLL_MS = 250;
/**
 * a takeover guard is held for a few system calls: one older than this was left by a process
 * that died holding it.
 */
const GUARD_STALE_MS = 10_000;

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

/** the link's target, or undefined when there is no link (released meanwhile). */
const readTarget = (path) => {
	try {
		return readlinkSync(path);
	} catch (error) {
		if (error?.code === 'ENOENT') return undefined;
		throw error;
	}
};

/** the pid a target names, or undefined for a target that is not one. */
const pidOf = (target) => {
	const pid = Number(target);
	return Number.isInteger(pid) && pid > 0 ? pid : undefined;
};

const unlinkIfThere = (path) => {
	try {
		unlinkSync(path);
	} catch (error) {
		if (error?.code !== 'ENOENT') throw error;
	}
};

/** makes the link `path` -> `target`; false when one is there already. */
const tryLink = (target, path) => {
	try {
		symlinkSync(target, path);
		return true;
	} catch (error) {
		if (error?.code === 'EEXIST') return false;
		throw error;
	}
};

/**
 * removes the lock at `lockPath` if it still names `staleTarget`. done under a second lock, the
 * guard: without it, two waiters that both read the dead owner could each remove the lock, the
 * second removing the one the first had just made, and both would install at once.
 */
const takeOver = (lockPath, staleTarget) => {
	const guardPath = `${lockPath}.takeover`;
	if (!tryLink(String(process.pid), guardPath)) {
		// another waiter is taking over; a guard left by a process that died holding it goes
		try {
			const guardOwner = pidOf(readTarget(guardPath));
			const age = Date.now() - lstatSync(guardPath).mtimeMs;
			if (age > GUARD_STALE_MS && (guardOwner === undefined || !isAlive(guardOwner)))
				unlinkIfThere(guardPath);
		} catch (error) {
			if (error?.code !== 'ENOENT') throw error;
		}
		// not a busy loop while the other finishes
		sleepSync(10);
		return;
	}
	try {
		// read again under the guard: only the very lock found stale is removed, never a new one
		if (readTarget(lockPath) === staleTarget) unlinkIfThere(lockPath);
	} finally {
		unlinkIfThere(guardPath);
	}
};

/**
 * runs `fn` holding the install lock of `dir` (the link `<dir>/.install.lock`), waiting while
 * another process holds it (saying so once through `log`), and returns what `fn` returns. `fn`
 * must check again whether there is still work to do: the holder before it may have done it.
 * the owner is known by its pid: processes that share the folder must share a pid namespace (not
 * two containers on one bind mount).
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
	while (!tryLink(String(process.pid), lockPath)) {
		const target = readTarget(lockPath);
		// released between our attempt and this read: try again at once
		if (target === undefined) continue;
		const owner = pidOf(target);
		if (owner === undefined || !isAlive(owner)) {
			// its owner died mid-install (or the link is not ours): what it left is redone by `fn`,
			// whose marker is written last
			takeOver(lockPath, target);
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
		// only our own lock: a live owner's lock is never taken over
		if (readTarget(lockPath) === String(process.pid)) unlinkIfThere(lockPath);
	}
};
