import { InvalidKeyError } from './errors.ts';
import { publicJwkOf } from './internal/public-jwk-of.ts';
import { shownMember } from './internal/shown-member.ts';
import {
	describeKeyAlgorithm,
	EC_CURVE_BY_ALG,
	keyAlgorithmFits,
	keyTypeOf,
} from './internal/webcrypto-algorithms.ts';
import type { Jwks, PublishedJwk } from './jwk.ts';
import { negotiateAlgorithm } from './negotiate-algorithm.ts';
import { checkKid, type PrivateKey } from './private-key.ts';
import { algorithmRank, isSigningAlgorithm, SIGNING_ALGORITHMS } from './signing-algorithm.ts';

/** what `Keyset.find` matches on. */
export interface KeySearch {
	/** the key id. */
	kid?: string | undefined;
	/** one algorithm, or a list of acceptable ones. */
	alg?: string | readonly string[] | undefined;
}

const isPrivateKey = (value: unknown): value is PrivateKey => {
	const key = value as PrivateKey | null;
	return (
		typeof key === 'object' &&
		key !== null &&
		typeof key.kid === 'string' &&
		typeof key.alg === 'string' &&
		typeof key.sign === 'function' &&
		typeof key.publicJwk === 'object' &&
		key.cryptoKey?.type === 'private'
	);
};

/**
 * a client's signing keys: unique `kid`s, the public JWKS to serve, lookup by kid and alg, and
 * negotiation against what the authorization server accepts.
 */
export class Keyset implements Iterable<PrivateKey> {
	/** sorted by algorithm preference (ES256 first), then in the order given. */
	readonly #keys: readonly PrivateKey[];
	readonly #byKid: ReadonlyMap<string, PrivateKey>;

	/** the public keys to serve at `jwks_uri` or inline as `jwks`: never any private field. */
	readonly publicJwks: Readonly<Jwks>;

	/**
	 * @param keys the client's private keys; each needs its own `kid`
	 * @throws TypeError when `keys` is not a list (an iterable), is empty, holds something that is
	 *   not a key, repeats a `kid`, or holds a key whose `alg` is not a supported signing algorithm or does not fit the key
	 *   (its key type, curve, or the WebCrypto algorithm and hash it was imported for)
	 * @throws InvalidKeyError (a TypeError) with reason `missing_kid` for a hand-built key whose
	 *   `kid` is not 1-256 printable ASCII characters
	 */
	constructor(keys: Iterable<PrivateKey>) {
		// nothing, or one key given alone, would otherwise fail as "keys is not iterable"
		if (
			typeof (keys as { [Symbol.iterator]?: unknown } | null | undefined)?.[Symbol.iterator] !== 'function'
		) {
			const got = keys === null ? 'null' : typeof keys;
			const hint = isPrivateKey(keys) ? ' (one key: pass it in a list, [key])' : '';
			throw new TypeError(
				`new Keyset(keys) expects a list of private keys (each from importJwkKey or generatePrivateKey), got ${got}${hint}`,
			);
		}
		const list = [...keys];
		if (list.length === 0) {
			throw new TypeError('a keyset needs at least one key');
		}

		const byKid = new Map<string, PrivateKey>();
		for (const [index, key] of list.entries()) {
			if (!isPrivateKey(key)) {
				throw new TypeError(
					`keyset entry ${index} is not an imported private key; pass JWKs through importJwkKey() first`,
				);
			}
			// a hand-built key skips the import's kid check, and the kid is published as is
			try {
				checkKid(key.kid);
			} catch (error) {
				throw new InvalidKeyError('missing_kid', `keyset entry ${index}: ${(error as Error).message}`);
			}
			// the key signs with the algorithm it was imported for: a label it does not fit would be
			// published, chosen by negotiate(), and every assertion refused by the server
			if (!isSigningAlgorithm(key.alg)) {
				throw new TypeError(
					`keyset entry ${index} (kid ${shownMember(key.kid)}) has alg ${shownMember(key.alg)}, which is not a supported signing algorithm`,
				);
			}
			const { kty, crv } = key.publicJwk as { kty?: unknown; crv?: unknown };
			if (kty !== keyTypeOf(key.alg) || (kty === 'EC' && crv !== EC_CURVE_BY_ALG[key.alg])) {
				throw new TypeError(
					`keyset entry ${index} (kid ${shownMember(key.kid)}) has alg ${key.alg}, which its ${String(kty)}${kty === 'EC' ? ` ${String(crv)}` : ''} key cannot sign with`,
				);
			}
			// the public JWK says only EC or RSA: an RSA key imported for RS256 and relabelled RS512 or
			// PS256 passes the check above, and its WebCrypto key would still sign RS256
			if (!keyAlgorithmFits(key.cryptoKey.algorithm, key.alg)) {
				const fits = SIGNING_ALGORITHMS.find((alg) => keyAlgorithmFits(key.cryptoKey.algorithm, alg));
				throw new TypeError(
					`keyset entry ${index} (kid ${shownMember(key.kid)}) has alg ${key.alg}, but its key was imported for ${describeKeyAlgorithm(key.cryptoKey.algorithm)}${fits === undefined ? '' : ` (${fits})`}; import the key for ${key.alg} rather than relabelling it`,
				);
			}
			if (byKid.has(key.kid)) {
				// two keys under one kid would make the server pick either one to verify with
				throw new TypeError(`keyset has two keys with kid ${shownMember(key.kid)}`);
			}
			byKid.set(key.kid, key);
		}

		this.#keys = Object.freeze(list.sort((a, b) => algorithmRank(a.alg) - algorithmRank(b.alg)));
		this.#byKid = byKid;
		this.publicJwks = Object.freeze({
			// frozen too: what is served to every server must not change under it (the type stays
			// `Jwks` so that client metadata can hold it as is)
			keys: Object.freeze(
				this.#keys.map(
					// copy the public parameters only: a hand-built key's publicJwk may hold private ones
					(key): PublishedJwk =>
						Object.freeze({ ...publicJwkOf(key.publicJwk), kid: key.kid, alg: key.alg, use: 'sig' }),
				),
			) as PublishedJwk[],
		});
	}

	/** a keyset as is, or a new one from a list of keys. */
	static from(input: Keyset | Iterable<PrivateKey>): Keyset {
		return input instanceof Keyset ? input : new Keyset(input);
	}

	/** how many keys it holds. */
	get size(): number {
		return this.#keys.length;
	}

	/** the key with this `kid`, if any. */
	get(kid: string): PrivateKey | undefined {
		return this.#byKid.get(kid);
	}

	/** whether a key with this `kid` is in the set. */
	has(kid: string): boolean {
		return this.#byKid.has(kid);
	}

	/**
	 * the most preferred key matching every given criterion, if any.
	 * @throws {TypeError} when `search` is not an object (a kid string, say)
	 */
	find(search: KeySearch = {}): PrivateKey | undefined {
		if (typeof search !== 'object' || search === null) {
			// a string would otherwise match on nothing and return the preferred key: the wrong one
			throw new TypeError(
				`keyset.find expects { kid?, alg? }, got ${search === null ? 'null' : typeof search}${typeof search === 'string' ? ': for a key by kid, use find({ kid }) or get(kid)' : ''}`,
			);
		}
		const { kid, alg } = search;
		const algs = typeof alg === 'string' ? [alg] : alg;
		for (const key of this.#keys) {
			if (kid !== undefined && key.kid !== kid) continue;
			if (algs !== undefined && !algs.includes(key.alg)) continue;
			return key;
		}
		return undefined;
	}

	/**
	 * the key to sign client assertions with for a server that accepts `supported` (its
	 * `token_endpoint_auth_signing_alg_values_supported`; ES256 when absent): ES256 keys first.
	 * @throws {NoCompatibleKeyError} naming our algorithms and the server's
	 * @throws {TypeError} when `supported` is present but not an array
	 */
	negotiate(supported?: readonly string[]): PrivateKey {
		const alg = negotiateAlgorithm(
			this.#keys.map((key) => key.alg),
			supported,
			'client authentication',
		);
		// the algorithm came from one of our keys, so a key for it exists
		return this.find({ alg })!;
	}

	/** the keys, in preference order (ES256 first, then as given). */
	[Symbol.iterator](): Iterator<PrivateKey> {
		return this.#keys[Symbol.iterator]();
	}
}
