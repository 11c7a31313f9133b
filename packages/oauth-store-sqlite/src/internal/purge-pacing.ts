import { resolve } from 'node:path';

/**
 * purge steps the stores on one file run, one per event-loop turn, before they pause (a burst).
 * with the default `purgeLimit` (32 rows, about 9 WAL pages of 16 KB a step) a burst adds some
 * 5 MB to the WAL: that, not the backlog, is what the WAL grows to while a backlog is purged.
 */
export const PURGE_BURST_STEPS = 32;

/**
 * the least time a checkpoint pass is given to copy one burst into the database file and sync
 * it, in milliseconds, after the worker's tick that starts it.
 */
const PASS_MARGIN_MS = 50;

/**
 * how long the stores wait after a burst of purge steps before the next, in milliseconds, given
 * the interval of the worker thread that checkpoints its file (0: none does).
 *
 * why: a checkpoint lets the WAL start over only once it has copied every frame, and a PASSIVE
 * pass that meets new commits leaves the newest behind. steps chained with no pause (each commits)
 * kept every pass from finishing, and the WAL grew to 878 MB for a backlog of 200,000 rows. a
 * quiet gap of one interval plus a margin holds a whole tick and the pass it starts (an app's own
 * occasional writes meanwhile are small, and the worker repeats a pass that met them).
 * without a worker, SQLite checkpoints inside the commit that takes the WAL past 1,000 pages, on
 * this thread, so no step of ours lands during it: the WAL starts over anyway (16 MB at most for
 * the same 200,000 rows), and steps need no pause.
 */
export const purgePause = (checkpointInterval: number): number =>
	checkpointInterval > 0 ? checkpointInterval + Math.max(checkpointInterval / 2, PASS_MARGIN_MS) : 0;

/**
 * the pacing all the stores purging one file in this process share: one burst of steps (by any
 * of them) per pause. why shared: each store pacing only itself ran its bursts in the others'
 * pauses, and three stores on one file took the WAL to 34 MB where one took 6 MB.
 */
export interface PurgePacer {
	/**
	 * how long to wait before the next step, in milliseconds: what is left of the pause a burst
	 * ended with (another store's, perhaps); 0 when a step may run now.
	 */
	wait(): number;
	/**
	 * counts a step that deleted rows toward the file's burst, and returns how long to wait
	 * before the next: `pause` when it ended a burst, else 0.
	 */
	stepped(pause: number): number;
	/** lets go of the file's pacing; the last store to let go drops it. */
	release(): void;
}

/** a file's shared pacing: the burst under way and the pause after the last. */
interface FilePacing {
	/** steps in the burst under way, by every store on the file. */
	steps: number;
	/** when the last counted step ran, in `performance.now()` milliseconds. */
	lastStepAt: number;
	/** no step before this, in `performance.now()` milliseconds: the end of the last pause. */
	resumeAt: number;
	/** the stores holding it. */
	users: number;
}

const pacings = new Map<string, FilePacing>();

/**
 * the purge pacing of the file at `path`, shared by every store in this process that opened it
 * (by its absolute path). other processes purging the file pace themselves, uncoordinated.
 */
export const acquirePurgePacer = (path: string): PurgePacer => {
	const key = resolve(path);
	let pacing = pacings.get(key);
	if (pacing === undefined) {
		pacing = { steps: 0, lastStepAt: -Infinity, resumeAt: 0, users: 0 };
		pacings.set(key, pacing);
	}
	const shared = pacing;
	shared.users++;
	let released = false;
	return {
		wait: () => Math.max(0, Math.ceil(shared.resumeAt - performance.now())),
		stepped: (pause) => {
			const now = performance.now();
			// a quiet gap as long as a pause has passed since the last step: a new burst
			if (now - shared.lastStepAt >= pause) shared.steps = 0;
			shared.lastStepAt = now;
			if (++shared.steps < PURGE_BURST_STEPS) return 0;
			shared.steps = 0;
			// every store on the file waits this out, not only the one whose step ended the burst
			shared.resumeAt = now + pause;
			return pause;
		},
		release: () => {
			if (released) return;
			released = true;
			if (--shared.users === 0) pacings.delete(key);
		},
	};
};
