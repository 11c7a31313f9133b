import type { LockFunction } from '../lock.ts';

/**
 * a lock with no exclusion of its own, whose every holding gets a signal the test can abort
 * (`leases`, in the order taken): a distributed lock's lease that runs out, on cue.
 */
export const leasingLock = (): { lock: LockFunction; leases: AbortController[] } => {
	const leases: AbortController[] = [];
	const lock: LockFunction = async (_name, fn) => {
		const lease = new AbortController();
		leases.push(lease);
		return fn(lease.signal);
	};
	return { lock, leases };
};
