/** how a held lease was found lost. */
export type LeaseLostReason =
	/** the key was gone: the lease ran out before it was renewed (a stalled process, a clock jump). */
	| 'expired'
	/** another owner holds the key: its lease expired and someone else acquired it. */
	| 'taken'
	/** Redis could not be reached for a whole lease: the lease may have expired meanwhile. */
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
