import type { StateStore, StoredState } from '../stored-types.ts';

/** takes an authorization state out of the store: whoever gets it is the only one who ever will. */
export type TakeState = (stateId: string) => Promise<StoredState | undefined>;

/**
 * single use of a state, enforced by the library whatever the store does: the store's atomic
 * `take` when it has one; otherwise get-then-delete, with an in-process claim that keeps two
 * concurrent callbacks of this process apart.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12
 */
export const createStateTake = (states: StateStore): TakeState => {
	const taking = new Set<string>();
	return async (stateId) => {
		if (typeof states.take === 'function') {
			return (await states.take(stateId)) ?? undefined;
		}
		// without an atomic take, a claim in this process keeps two concurrent callbacks apart
		if (taking.has(stateId)) return undefined;
		taking.add(stateId);
		try {
			const state = await states.get(stateId);
			if (state !== undefined) await states.delete(stateId);
			return state;
		} finally {
			taking.delete(stateId);
		}
	};
};
