import type { Envelope } from './envelope.ts';

/** values longer than this (JSON characters) are not cached: a session is about 3 KB. */
const MAX_CACHED_TEXT = 64 * 1024;

interface Cached {
	kid: string;
	iv: string;
	ct: string;
	exp: number | undefined;
	text: string;
}

/**
 * the JSON text of recently read or written entries, by entry key, with the envelope it came
 * from. a hit needs the stored envelope to be the very same bytes (key id, IV, ciphertext,
 * expiry): those were authenticated under this entry key already, so decrypting them again
 * would give the same text. anything else, another process's write included, is a miss.
 * bounded: the least recently used entry goes first.
 */
export class PlaintextCache {
	readonly #entries = new Map<string, Cached>();
	readonly #maxSize: number;

	constructor(maxSize: number) {
		this.#maxSize = maxSize;
	}

	/** the text for `envelope` stored under `key`, if this is the envelope it was cached with. */
	get(key: string, envelope: Envelope): string | undefined {
		const cached = this.#entries.get(key);
		if (cached === undefined) return undefined;
		if (
			cached.ct !== envelope.ct ||
			cached.iv !== envelope.iv ||
			cached.kid !== envelope.kid ||
			cached.exp !== envelope.exp
		) {
			return undefined;
		}
		// most recently used goes to the back
		this.#entries.delete(key);
		this.#entries.set(key, cached);
		return cached.text;
	}

	set(key: string, envelope: Envelope, text: string): void {
		if (this.#maxSize === 0) return;
		this.#entries.delete(key);
		if (text.length > MAX_CACHED_TEXT) return;
		const { kid, iv, ct, exp } = envelope;
		this.#entries.set(key, { kid, iv, ct, exp, text });
		if (this.#entries.size > this.#maxSize) this.#entries.delete(this.#entries.keys().next().value!);
	}

	delete(key: string): void {
		this.#entries.delete(key);
	}

	clear(): void {
		this.#entries.clear();
	}
}
