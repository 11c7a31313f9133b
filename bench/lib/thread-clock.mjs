// how long a synchronous call held the caller's (main) thread: its wall time, and the part of it
// the thread spent ready but waiting for a CPU that other processes held (`wait`: the shared
// machine's scheduler, not the call). `own` = wall − wait is what the call itself cost the thread:
// its CPU work plus any time blocked in the kernel (I/O, fsync, a page fault from disk).
// `switches` counts the times the thread was switched back in during the call (0: it ran through).
// read from /proc/thread-self/schedstat (nanoseconds; the run-queue delay is exact once the thread
// runs again, unlike the on-CPU sum, which lags by a scheduler tick); elsewhere only wall.
import { closeSync, openSync, readSync } from 'node:fs';

let fd;
try {
	// opened on the main thread, so it keeps describing the main thread
	fd = openSync('/proc/thread-self/schedstat', 'r');
} catch {
	fd = undefined;
}
const buffer = Buffer.alloc(128);

/** the main thread's [runqueue-wait ns, times switched in] so far, or [0, 0] without schedstat. */
const sched = () => {
	if (fd === undefined) return [0, 0];
	const length = readSync(fd, buffer, 0, buffer.length, 0);
	const [, wait, slices] = buffer.toString('latin1', 0, length).split(' ');
	return [Number(wait), Number(slices)];
};

/** whether the split is available (Linux with schedstat). */
export const hasThreadClock = fd !== undefined;

/**
 * runs `fn` and returns [{ wall, wait, own } in ns and `switches`, its result]. only the
 * synchronous part is timed: the stores' async methods do their work before returning the promise.
 */
export const threadTimed = async (fn) => {
	const [wait0, slices0] = sched();
	const start = process.hrtime.bigint();
	const result = fn();
	const wall = Number(process.hrtime.bigint() - start);
	const [wait1, slices1] = sched();
	const value = await result;
	const wait = wait1 - wait0;
	return [{ wall, wait, own: Math.max(0, wall - wait), switches: slices1 - slices0 }, value];
};

/** `threadTimed` for a synchronous `fn`: { wall, wait, own } in ns and `switches`, without a promise. */
export const threadTimedSync = (fn) => {
	const [wait0, slices0] = sched();
	const start = process.hrtime.bigint();
	fn();
	const wall = Number(process.hrtime.bigint() - start);
	const [wait1, slices1] = sched();
	const wait = wait1 - wait0;
	return { wall, wait, own: Math.max(0, wall - wait), switches: slices1 - slices0 };
};

/** closes the schedstat file (the bench's last step). */
export const closeThreadClock = () => {
	if (fd !== undefined) closeSync(fd);
	fd = undefined;
};
