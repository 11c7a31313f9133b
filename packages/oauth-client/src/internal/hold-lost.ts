import { LockUnavailableError } from '../errors.ts';
import type { LockFunction } from '../lock.ts';

/**
 * a lock's function found its hold lost (`lost` aborted) right before a change that must be made
 * under the lock (a session's write or delete, a refresh token sent): nothing was changed. another
 * holder may have taken the lock since and changed the session (a sign-in again, a refresh), which
 * the change would undo, or be sending the same refresh token, which the server would then see
 * twice. `underLockRetryingOnce` runs the function again under the lock taken anew.
 */
export class HoldLostBeforeChange extends LockUnavailableError {}

/**
 * throws `HoldLostBeforeChange` with `message` when the hold on `name` is lost by now; call right
 * before the change.
 */
export const checkHold = (name: string, lost: AbortSignal | undefined, message: () => string): void => {
	if (lost?.aborted) throw new HoldLostBeforeChange(name, message(), { cause: lost.reason });
};

/**
 * `fn` under the lock `name`, run once more under the lock taken anew when it found its hold lost
 * before a change (`HoldLostBeforeChange`: nothing changed), from a fresh read. a second loss is
 * thrown: it is a `LockUnavailableError`, transient, and a lock that loses every hold is not
 * retried for ever.
 */
export const underLockRetryingOnce = async <T>(
	lock: LockFunction,
	name: string,
	fn: (lost?: AbortSignal) => Promise<T>,
): Promise<T> => {
	try {
		return await lock(name, fn);
	} catch (err) {
		if (!(err instanceof HoldLostBeforeChange)) throw err;
	}
	return lock(name, fn);
};
