// one install at a time per folder, across processes. two test runs started together on a fresh
// clone (two terminals, or vitest runs side by side) each found the runtime missing and ran
// `npm ci` and node-gyp in the same folder at once: each deleted the other's build files, and both
// failed. the lock is a symbolic link whose target is the owner's pid: made in one atomic step
// with its owner named, so there is no moment where a lock has no owner. a lock whose owner is
// gone (killed mid-install) is taken over, once what that install started has ended: a Ctrl-C
// reaches `npm ci` too, which carries on after its parent died, and a second one in the same folder
// fails (ENOTEMPTY). a lock naming this very process (a pid reused, in a container say), or one older
// than any install takes, is taken over as well.
// runs on plain Node >= 20 with no dependencies, synchronously, as the installer does.
import { lstatSync, readdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** how often a waiting process looks at the lock again. */
const POLL_MS = 250;
/**
 * a takeover guard is held for a few system calls: one older than this was left by a process
 * that died holding it.
 */
const GUARD_STALE_MS = 10_000;

/**
 * an install takes a few minutes (about 2 on a fresh machine): a lock held for longer than this
 * names a pid that is someone else's now (the owner died and the pid was reused).
 */
export const LOCK_STALE_MS = 20 * 60_000;

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
 * the variable an install's steps run with (npm ci, node-gyp, and what they start inherit it):
 * its value is the folder installed into, so that a later install can find the steps of one
 * whose owner died, and only those (a PDS running from that folder is no install).
 */
export const INSTALL_STEP_ENV = 'ATCUTE_OAUTH_INSTALL_STEP';

/**
 * the processes (other than this one) of an install into `dir`, as `{ pid, command }`: those
 * whose environment has `INSTALL_STEP_ENV=<dir>`, found in /proc (Linux, where the runtime
 * installs); none elsewhere.
 */
export const installStepsIn = (dir) => {
	let entries;
	try {
		entries = readdirSync('/proc');
	} catch {
		return [];
	}
	const marker = `${INSTALL_STEP_ENV}=${dir}`;
	const found = [];
	for (const entry of entries) {
		const pid = Number(entry);
		if (!Number.isInteger(pid) || pid === process.pid) continue;
		try {
			if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)) continue;
			const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
			found.push({ pid, command });
		} catch {
			// gone meanwhile, or another user's (not readable): not one of ours
		}
	}
	return found;
};

/**
 * waits while processes an earlier install started (npm ci, node-gyp) still work in `dir`: its
 * owner died, they did not, and installing beside them makes both fail.
 */
const waitForLeftovers = (dir, deadline, log) => {
	let told = false;
	for (let left = installStepsIn(dir); left.length > 0; left = installStepsIn(dir)) {
		if (Date.now() > deadline) {
			throw new Error(
				`processes of an earlier install still work in ${dir}: ${left.map(({ pid, command }) => `${pid} (${command})`).join(', ')}`,
			);
		}
		if (!told) {
			log(
				`runtime: an earlier install was stopped, but ${left.map(({ pid, command }) => `pid ${pid} (${command.slice(0, 60)})`).join(', ')} still works in ${dir}; waiting for it to end`,
			);
			told = true;
		}
		sleepSync(POLL_MS);
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
	let tookOver = false;
	while (!tryLink(String(process.pid), lockPath)) {
		const target = readTarget(lockPath);
		// released between our attempt and this read: try again at once
		if (target === undefined) continue;
		const owner = pidOf(target);
		let age = 0;
		try {
			age = Date.now() - lstatSync(lockPath).mtimeMs;
		} catch (error) {
			if (error?.code !== 'ENOENT') throw error;
			continue;
		}
		// its owner died mid-install (or the link is not ours), or the pid it names is not its
		// owner any more: this process's own (we hold no lock yet), or one held past any install
		if (owner === undefined || owner === process.pid || age > LOCK_STALE_MS || !isAlive(owner)) {
			if (owner !== undefined && isAlive(owner)) {
				log(
					`runtime: taking over ${lockPath}: it names pid ${owner}, ${owner === process.pid ? 'this very process' : `and is ${Math.round(age / 60_000)} minutes old`}`,
				);
			}
			// what the dead install left is redone by `fn`, whose marker is written last
			takeOver(lockPath, target);
			tookOver = true;
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
		if (tookOver) waitForLeftovers(dir, deadline, log);
		return fn();
	} finally {
		// only our own lock: a live owner's lock is never taken over
		if (readTarget(lockPath) === String(process.pid)) unlinkIfThere(lockPath);
	}
};
