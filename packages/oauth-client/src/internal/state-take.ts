import type { StateStore, StoredState } from '../stored-types.ts';
import { processRegistry } from './process-registry.ts';

/**
 * the states being taken, per state store object in this process, shared by every installed copy
 * of this package (each uses the set's `has`, `add` and `delete` only).
 */
const claimsByStore = processRegistry<StateStore, Set<string>>('@atcute/oauth-client/state-claims@1');

/**
 * the states being put back, per state store object in this process: a callback whose caller gave
 * up while the store was taking its state returns it once the store answers (see `returnState`).
 */
const returnsByStore = processRegistry<StateStore, Map<string, Promise<void>>>(
	'@atcute/oauth-client/state-returns@1',
);

/**
 * notes that `returning` puts `stateId` back into `states`: a take of it in this process meanwhile
 * (the same callback again, a reload) waits for it, rather than find the state gone, or claimed,
 * and refuse as `invalid_state` a callback that can complete.
 */
export const returnState = (states: StateStore, stateId: string, returning: Promise<void>): void => {
	let returns = returnsByStore.get(states);
	if (returns === undefined) {
		returns = new Map();
		returnsByStore.set(states, returns);
	}
	const pending = returns;
	pending.set(stateId, returning);
	void returning.then(() => {
		if (pending.get(stateId) === returning) pending.delete(stateId);
	});
};

/**
 * how long a take waits for a put-back of its state: a write that never settles (one request a
 * store client lost, with no time limit of its own) must not hold the state's every callback for
 * ever. past it, the take goes on, and finds the state or not, as it did without the wait.
 */
const RETURN_WAIT_MS = 10 * 1000;

/** `promise` settled, or `ms` passed (the timer keeps no process alive). */
const bounded = (promise: Promise<void>, ms: number): Promise<void> =>
	new Promise<void>((resolve) => {
		const timer = setTimeout(resolve, ms);
		(timer as { unref?: () => void }).unref?.();
		void promise.then(() => {
			clearTimeout(timer);
			resolve();
		});
	});

/** takes an authorization state out of the store: whoever gets it is the only one who ever will. */
export type TakeState = (stateId: string) => Promise<StoredState | undefined>;

/**
 * single use of a state, enforced by the library whatever the store does: the store's atomic
 * `take` when it has one; otherwise get-then-delete, with an in-process claim that keeps two
 * concurrent callbacks of this process apart. the claim belongs to the store object, not to one
 * client (nor to one installed copy of this package): two clients on one store (a client per
 * request) would otherwise both read the state
 * before either deletes it, and exchange its code twice.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12
 */
export const createStateTake = (states: StateStore): TakeState => {
	let taking = claimsByStore.get(states);
	if (taking === undefined) {
		taking = new Set();
		claimsByStore.set(states, taking);
	}
	const claims = taking;
	return async (stateId) => {
		// a callback that gave up while the store took this state puts it back: it is waited for
		// (the caller's signal bounds the wait, as it bounds the take)
		const returning = returnsByStore.get(states)?.get(stateId);
		if (returning !== undefined) await bounded(returning, RETURN_WAIT_MS);
		if (typeof states.take === 'function') {
			return (await states.take(stateId)) ?? undefined;
		}
		// without an atomic take, a claim in this process keeps two concurrent callbacks apart
		if (claims.has(stateId)) return undefined;
		claims.add(stateId);
		try {
			// `null` is no state too, as with `take` (ioredis, pg and bun:sqlite answer it)
			const state = (await states.get(stateId)) ?? undefined;
			if (state !== undefined) await states.delete(stateId);
			return state;
		} finally {
			claims.delete(stateId);
		}
	};
};
