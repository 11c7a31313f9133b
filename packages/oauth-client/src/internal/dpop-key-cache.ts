import { type DpopKey, type DpopPrivateJwk, importDpopKey } from '@atcute/oauth-dpop';
import type { CreateSigner } from '@atcute/oauth-keys';
import { setNewest } from '@atcute-oauth/internal/set-newest';

import { tokenFingerprint } from './token-fingerprint.ts';

/** how many imported session keys to keep; each is a few hundred bytes. */
const MAX_KEYS = 1000;

/**
 * imported DPoP keys, by their private scalar: restoring a session (from any store, even one that
 * returns a fresh object each time) must not re-import its key. bounded; least recently used out.
 */
export class DpopKeyCache {
	readonly #keys = new Map<string, Promise<DpopKey>>();
	#forgotten = 0;
	/** the keys forgotten last (a fingerprint of their id, not the scalar), with `#forgotten` then. */
	readonly #forgottenAt = new Map<string, number>();
	readonly #createSigner: CreateSigner | undefined;

	constructor(createSigner: CreateSigner | undefined) {
		this.#createSigner = createSigner;
	}

	get(jwk: DpopPrivateJwk): Promise<DpopKey> {
		const id = `${jwk.alg}:${jwk.d}`;
		let key = this.#keys.get(id);
		if (key !== undefined) {
			// refresh its place in the LRU order
			setNewest(this.#keys, id, key, MAX_KEYS);
			return key;
		}

		key = importDpopKey(jwk, this.#createSigner ? { createSigner: this.#createSigner } : undefined);
		// a failed import is not remembered: the next try may have a good key under the same id
		key.catch(() => this.#keys.delete(id));
		setNewest(this.#keys, id, key, MAX_KEYS);
		return key;
	}

	/**
	 * drops the key of a session that ended: its private scalar (this map's key, and the JWK the
	 * imported key keeps for export) must not stay in memory, readable from a heap dump, after the
	 * sign-out. a session object that still holds the key keeps it until it is collected.
	 */
	forget(jwk: Partial<DpopPrivateJwk> | null | undefined): void {
		// a stored value of another shape (one the store can hardly read) imported nothing
		if (jwk == null) return;
		const id = `${jwk.alg}:${jwk.d}`;
		this.#keys.delete(id);
		this.#forgotten++;
		setNewest(this.#forgottenAt, tokenFingerprint(id), this.#forgotten, MAX_KEYS);
	}

	/**
	 * whether `jwk`'s key was forgotten after `mark` (a `forgotten` read then); yes too when more
	 * keys were forgotten since than are remembered.
	 */
	forgottenSince(jwk: DpopPrivateJwk, mark: number): boolean {
		if (this.#forgotten === mark) return false;
		if (this.#forgotten - mark > MAX_KEYS) return true;
		const at = this.#forgottenAt.get(tokenFingerprint(`${jwk.alg}:${jwk.d}`));
		return at !== undefined && at > mark;
	}

	/**
	 * how many keys were forgotten so far: a mark for `forgottenSince`. a caller that read a session
	 * before a sign-out and imported its key after it (a `restore()` racing the sign-out) put that
	 * key back, and drops it again (`drop`) when it was forgotten since its mark.
	 */
	get forgotten(): number {
		return this.#forgotten;
	}

	/** drops `jwk`'s key, which may still be in use: its next `get` imports it again. */
	drop(jwk: DpopPrivateJwk): void {
		this.#keys.delete(`${jwk.alg}:${jwk.d}`);
	}
}
