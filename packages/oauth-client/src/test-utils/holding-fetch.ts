/** a gate: `arrived` once something reached it, which waits until `release()`. */
export interface Gate {
	/** says something reached the gate. */
	arrive: () => void;
	/** settles once something reached it. */
	arrived: Promise<void>;
	/** what waits at the gate: settles on `release()`. */
	go: Promise<void>;
	/** lets it through. */
	release: () => void;
}

export const gate = (): Gate => {
	let arrive!: () => void;
	let release!: () => void;
	const arrived = new Promise<void>((resolve) => (arrive = resolve));
	const go = new Promise<void>((resolve) => (release = resolve));
	return { arrive, arrived, go, release };
};

/** a fetch that holds the next request whose URL includes `part` (once armed) until released. */
export interface HoldingFetch {
	fetch: typeof fetch;
	/** arms the hold for the next request whose URL includes `part`. */
	hold: (part: string) => Gate;
}

export const holdingFetch = (): HoldingFetch => {
	let armed: { part: string; g: Gate } | undefined;
	const fetchFn: typeof fetch = async (input, init) => {
		const url = String(input instanceof Request ? input.url : input);
		const held = armed;
		if (held !== undefined && url.includes(held.part)) {
			armed = undefined;
			held.g.arrive();
			await held.g.go;
		}
		return fetch(input, init);
	};
	const hold = (part: string): Gate => {
		const g = gate();
		armed = { part, g };
		return g;
	};
	return { fetch: fetchFn, hold };
};
