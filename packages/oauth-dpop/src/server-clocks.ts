import { parseHttpDate } from '@atcute-oauth/internal/http-date';
import { setNewest } from '@atcute-oauth/internal/set-newest';

/** options for `ServerClocks`. */
export interface ServerClocksOptions {
	/** our clock, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
	/**
	 * how many servers on their own clock to remember (and as many kept on ours after a wrong `Date`);
	 * the one put there, or last confirmed by an accepted request, longest ago is dropped first.
	 * default 1000.
	 */
	maxSize?: number | undefined;
}

/** a server clock further than this from ours is a broken `Date` header, not a clock to follow. */
const MAX_OFFSET_MS = 24 * 60 * 60 * 1000;

/**
 * how long a server whose `Date` proved not to be its clock stays on ours, whatever it refuses:
 * a server that keeps refusing for another reason (a stale copy of our keys) then costs one
 * more request per this time, not one per request.
 */
const DISTRUST_MS = 10 * 60 * 1000;

/** an IMF-fixdate is 29 characters; a longer `Date` is not worth parsing or keeping. */
const MAX_DATE_LENGTH = 64;

/** a server on its own clock. */
interface Offset {
	/** how far its clock is taken to be from ours, in milliseconds. */
	ms: number;
	/** the `Date` header that was read from. */
	date: string;
	/** whether a request stamped on its clock was accepted since it was put there. */
	confirmed: boolean;
}

/**
 * how far `origin`'s clock is from ours, read from an answer's `Date` header: never ahead of
 * the server's clock. `Date` is the time the answer was made, in whole seconds rounded down, and
 * the answer arrived after it was made, so the reading runs 0-1 s plus one trip behind: a time
 * stamped with it is in the server's past, as an `iat` must be. (a cached answer's `Date` is
 * older still; the answers read here, to authenticated requests and POSTs, are not cached.)
 * undefined when the header is missing, not a date, or more than a day from ours.
 */
const readOffset = (headers: Headers, receivedAt: number): { ms: number; date: string } | undefined => {
	const date = headers.get('date');
	if (date === null || date.length > MAX_DATE_LENGTH) return undefined;
	// any of the three HTTP-date forms, read as GMT: Date.parse reads the asctime one in our time zone
	const ms = parseHttpDate(date) - receivedAt;
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
 * a server is put on its own clock only after a refusal, and goes back to ours (for 10 minutes,
 * whatever it refuses) when a request stamped on its clock is refused before any was accepted:
 * a `Date` header that is wrong (a proxy's clock) costs a refused request or two, not every
 * request. in memory.
 */
export class ServerClocks {
	readonly #now: () => number;
	readonly #maxSize: number;
	readonly #offsets = new Map<string, Offset>();
	/** the servers whose `Date` proved not to be their clock, until when. */
	readonly #distrusted = new Map<string, number>();

	/**
	 * @param options our clock and the size bound; see `ServerClocksOptions`
	 * @throws {TypeError} when `options` is not an object, `now` not a function or `maxSize` not a positive integer
	 */
	constructor(options: ServerClocksOptions = {}) {
		// null would fail in the destructuring below with a message naming nothing
		if (typeof options !== 'object' || options === null) {
			throw new TypeError(
				`ServerClocks options must be an object ({ now?, maxSize? }), got ${options === null ? 'null' : typeof options}`,
			);
		}
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
	 * learns from an answer of `origin` (its `status` and `headers`) to a request stamped with
	 * `used` (`offset(origin)` then: undefined for our clock). a server on its own clock takes a
	 * later reading of its `Date` only when it is higher, so closer to its clock: every reading is
	 * behind it, and a lower one only reads an older answer. (a clock set back is learnt from the
	 * refusal it causes, through `adopt`.) an answer below 400 to a request stamped on its clock
	 * confirms that clock, and makes the server the last to go past `maxSize`; one stamped on ours
	 * (sent before the server was put on its own) says nothing of it. a server on ours is left
	 * there, so this costs one map lookup on every answer.
	 */
	observe(
		origin: string,
		response: { readonly headers: Headers; readonly status: number },
		used: number | undefined,
	): void {
		const current = this.#offsets.get(origin);
		if (current === undefined) return;
		if (used !== undefined && response.status < 400) {
			current.confirmed = true;
			// the newest again: past maxSize, servers in use outlast those put on their clock since
			// (origins a hostile handle names cannot push out a PDS that is working)
			setNewest(this.#offsets, origin, current, this.#maxSize);
		}
		const date = response.headers.get('date');
		// the same Date read again only reads lower
		if (date === null || date === current.date) return;
		const next = readOffset(response.headers, this.#now());
		if (next !== undefined && next.ms > current.ms) {
			current.ms = next.ms;
			current.date = next.date;
		}
	}

	/**
	 * after `origin` refused a proof or an assertion (its refusal's `headers`) that was stamped with
	 * `used` (`offset(origin)` then: undefined for our clock), says whether to send it once more, as
	 * `now(origin)` stamps it from then on:
	 * - stamped on ours: the server is put on its own clock, as the refusal's `Date` reads it;
	 *   true, or false (nothing changed) without a usable `Date`;
	 * - stamped on its clock, which has moved by a second or more since: followed; true;
	 * - stamped on its clock, which has not moved, before any request stamped on it was accepted: its
	 *   `Date` is not what the server checks with, and it goes back to ours, where it stays for
	 *   10 minutes; true;
	 * - otherwise false: the refusal is not about the clock.
	 */
	adopt(origin: string, headers: Headers, used: number | undefined): boolean {
		const now = this.#now();
		const reading = readOffset(headers, now);
		const current = this.#offsets.get(origin);
		if (used === undefined) {
			if (reading === undefined) return false;
			const distrusted = this.#distrusted.get(origin);
			if (distrusted !== undefined) {
				if (now < distrusted) {
					// still distrusted. our clock set back since: the 10 minutes count again from here,
					// never longer (a server whose clock does differ would be refused all that while)
					if (distrusted - now > DISTRUST_MS) {
						setNewest(this.#distrusted, origin, now + DISTRUST_MS, this.#maxSize);
					}
					return false;
				}
				this.#distrusted.delete(origin);
			}
			// another request may have put it there meanwhile: that reading is as good
			if (current === undefined) this.#put(origin, { ...reading, confirmed: false });
			return true;
		}
		if (reading !== undefined && Math.abs(reading.ms - used) >= 1000) {
			// a reading can lag by a second plus a trip: a clock that worked stays confirmed, or a
			// refusal not about the clock, read late, would put it back on ours
			this.#put(origin, { ...reading, confirmed: current?.confirmed ?? false });
			return true;
		}
		if (current !== undefined && !current.confirmed) {
			this.#offsets.delete(origin);
			setNewest(this.#distrusted, origin, now + DISTRUST_MS, this.#maxSize);
			return true;
		}
		return false;
	}

	#put(origin: string, offset: Offset): void {
		setNewest(this.#offsets, origin, offset, this.#maxSize);
	}
}
