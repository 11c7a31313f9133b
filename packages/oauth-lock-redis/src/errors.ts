/** how a held lease was found lost. */
export type LeaseLostReason =
	/** the key was gone: the lease ran out before it was renewed (a stalled process, a clock jump). */
	| 'expired'
	/** another owner holds the key: its lease expired and someone else acquired it. */
	| 'taken'
	/**
	 * Redis did not confirm the lease for a whole lease (unreachable, or not answering, or the
	 * holder's event loop stalled or its machine slept that long, found when it read its signal):
	 * it may have expired meanwhile. also a renewal or release Redis refused for good (an ACL, a
	 * script error).
	 */
	| 'unconfirmed';

/** what `onLeaseLost` is told. */
export interface LeaseLostEvent {
	/** the lock's name. */
	name: string;
	/** how the loss was found. */
	reason: LeaseLostReason;
	/** how long the holder had been running when the loss was found, in milliseconds. */
	heldMs: number;
}
