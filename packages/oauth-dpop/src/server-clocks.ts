/** options for `ServerClocks`. */
export interface ServerClocksOptions {
	/** our clock, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
	/** how many servers on their own clock to remember; the one put there longest ago is dropped first. default 1000. */
	maxSize?: number | undefined;
}

/** a server clock further than this from ours is a broken `Date` header, not a clock to follow. */
const MAX_OFFSET_MS = 24 * 60 * 60 * 1000;

/** a server on its own clock: how far its clock is from ours, and the `Date` that was read from. */
interface Offset {
	ms: number;
	date: string;
}

/**
 * how far `origin`'s clock is from ours, read from an answer's `Date` header (plus its `Age`, when
 * a cache kept it): never ahead of the server's clock. `Date` is the time the answer was made,
 * in whole seconds rounded down, and the answer arrived after it was made, so the estimate runs
 * 0-1 s plus one trip behind: a time stamped with it is in the server's past, as an `iat` must
 * be, and never more than a few seconds old. undefined when the header is missing or absurd.
 */
const readOffset = (headers: Headers, receivedAt: number): { ms: number; date: string } | undefined => {
	const date = headers.get('date');
	if (date === null) return undefined;
	const made = Date.parse(date);
	if (!Number.isFinite(made)) return undefined;
	const age = headers.get('age');
	const ms = made + (age !== null && /^\d{1,9}$/.test(age) ? Number(age) * 1000 : 0) - receivedAt;
	return Math.abs(ms) <= MAX_OFFSET_MS ? { ms, date } : undefined;
};

/**
 * the clocks that `iat` is stamped with, per server origin, for DPoP proofs and client assertions.
 * every server starts on our clock. one that refuses a proof or an assertion (`invalid_dpop_proof`,
 * `invalid_client`) is put on its own clock, as its answers' `Date` headers read it (`adopt`),
 * and follows them from then on (`observe`): a server whose clock differs from ours, even by part
 * of a second at one that wants `iat` strictly in its past (the reference authorization server's
 * client assertions), would otherwise refuse every request.
 *
 * a server is never put on its own clock without a refusal, so a `Date` header that is wrong
 * (a proxy's clock) changes nothing where our clock works. in memory, per process.
 */
export class ServerClocks {
	readonly #now: () => number;
	readonly #maxSize: number;
	readonly #offsets = new Map<string, Offset>();

	/** @param options our clock and the size bound; see `ServerClocksOptions` */
	constructor(options: ServerClocksOptions = {}) {
		const { now = Date.now, maxSize = 1000 } = options;
		if (typeof now !== 'function') {
			throw new TypeError(
				`ServerClocks: now must be a function returning milliseconds since the epoch (as Date.now, not its result), got ${now === null ? 'null' : typeof now}`,
			);
		}
		if (!Number.isInteger(maxSize) || maxSize < 1) {
			throw new TypeError(`ServerClocks: maxSize must be a positive integer, got ${maxSize}`);
		}
		this.#now = now;
		this.#maxSize = maxSize;
	}

	/** the time to stamp a request to `origin` with, in milliseconds since the epoch: ours, or its own. */
	now(origin: string): number {
		const offset = this.#offsets.get(origin);
		return offset === undefined ? this.#now() : this.#now() + offset.ms;
	}

	/** how far `origin`'s clock is taken to be from ours, in milliseconds; undefined while it is on ours. */
	offset(origin: string): number | undefined {
		return this.#offsets.get(origin)?.ms;
	}

	/**
	 * learns from an answer of `origin`: a server on its own clock follows its `Date` header. a
	 * server on ours is left there, so this costs one map lookup on every answer.
	 */
	observe(origin: string, headers: Headers): void {
		const current = this.#offsets.get(origin);
		if (current === undefined) return;
		const date = headers.get('date');
		// the same Date read earlier gave the tighter estimate (less time had passed since it was made)
		if (date === null || date === current.date) return;
		const next = readOffset(headers, this.#now());
		if (next !== undefined) this.#offsets.set(origin, next);
	}

	/**
	 * puts `origin` on its own clock after it refused a proof or an assertion, as the refusal's
	 * `Date` header reads it. true when a retry would be stamped differently: the server was on our
	 * clock, or its clock moved by a second or more from `used` (the offset the refused request
	 * was stamped with, as `offset(origin)` gave it). false, changing nothing, for an answer
	 * without a usable `Date`.
	 */
	adopt(origin: string, headers: Headers, used: number | undefined): boolean {
		const next = readOffset(headers, this.#now());
		if (next === undefined) return false;
		this.#offsets.delete(origin);
		this.#offsets.set(origin, next);
		if (this.#offsets.size > this.#maxSize) this.#offsets.delete(this.#offsets.keys().next().value!);
		return used === undefined || Math.abs(next.ms - used) >= 1000;
	}
}
