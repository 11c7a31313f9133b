/**
 * full purge steps the store runs one per event-loop turn before it pauses (a burst). with the
 * default `purgeLimit` (32 rows, about 9 WAL pages of 16 KB a step) a burst adds some 5 MB to the
 * WAL: that, not the backlog, is what the WAL grows to while a backlog is purged.
 */
export const PURGE_BURST_STEPS = 32;

/**
 * the least time a checkpoint pass is given to copy one burst into the database file and sync
 * it, in milliseconds, after the worker's tick that starts it.
 */
const PASS_MARGIN_MS = 50;

/**
 * how long the store waits after a burst of purge steps before the next, in milliseconds, given
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
