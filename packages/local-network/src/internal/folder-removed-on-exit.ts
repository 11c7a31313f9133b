import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

/** what `folderRemovedOnExit` returns. */
export interface FolderRemovedOnExit {
	/** kills `child` (SIGKILL) before the folder is removed, unless it has exited by then. */
	track(child: ChildProcess): void;
	/** kills the tracked processes, waits for them to die, removes the folder; no longer on exit. */
	removeNow(): void;
}

/** how long the exit may wait for the killed processes to die. */
const DEATH_WAIT_MS = 2_000;

/**
 * removes `dir` when this process exits (a signal's `process.exit()`, a test runner ending),
 * after killing the processes that write into it. an 'exit' handler cannot wait for anything
 * asynchronous, so it waits for their deaths synchronously: a process may finish the system call
 * it was in (the PDS's `mkdir -p` of its data folder, openssl's open of its output file) after
 * the kill was sent, and would leave the folder behind again.
 */
export const folderRemovedOnExit = (dir: string): FolderRemovedOnExit => {
	const children = new Set<ChildProcess>();
	const removeNow = (): void => {
		process.off('exit', removeNow);
		const killed: number[] = [];
		for (const child of children) {
			// only the processes this start spawned, by their pid; one that has exited is left alone
			if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
			child.kill('SIGKILL');
			killed.push(child.pid);
		}
		waitUntilDeadSync(killed, DEATH_WAIT_MS);
		rmSync(dir, { recursive: true, force: true });
	};
	process.once('exit', removeNow);
	return {
		track(child) {
			children.add(child);
			child.once('exit', () => children.delete(child));
		},
		removeNow,
	};
};

/** how many threads the process `pid` has left (0 once it is gone). */
const threadCount = (pid: number): number => {
	try {
		return readdirSync(`/proc/${pid}/task`).length;
	} catch {
		return 0;
	}
};

/**
 * waits, blocking, until every pid is dead (a zombie or gone) or `ms` have passed. Linux only,
 * from `/proc`; elsewhere it returns at once. a child of this process stays a zombie until this
 * process reaps it, so its pid cannot be given to another process meanwhile.
 */
const waitUntilDeadSync = (pids: number[], ms: number): void => {
	if (process.platform !== 'linux' || pids.length === 0) return;
	const deadline = performance.now() + ms;
	const sleeper = new Int32Array(new SharedArrayBuffer(4));
	for (const pid of pids) {
		while (performance.now() < deadline) {
			let stat: string;
			try {
				stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
			} catch {
				break;
			}
			// `pid (name) S ...`: the state follows the name, which may itself hold spaces or parentheses
			const state = stat.charAt(stat.lastIndexOf(')') + 2);
			// the main thread dead is not enough: the others (the thread pool's, in a mkdir -p) may
			// still finish the system call they were in
			if ((state === 'Z' || state === 'X') && threadCount(pid) <= 1) break;
			Atomics.wait(sleeper, 0, 0, 2);
		}
	}
};
