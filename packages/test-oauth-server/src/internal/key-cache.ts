import {
	calculateJwkThumbprint,
	EmbeddedJWK,
	type FlattenedJWSInput,
	importJWK,
	type JWK,
	type JWSHeaderParameters,
} from 'jose';

/** how many imported keys and thumbprints are kept; the oldest goes first. */
const MAX_ENTRIES = 1000;

/**
 * a bounded map from a key's exact text (its algorithm and JWK as JSON) to what was derived from
 * it. a real server caches a client's keys too; only the import is saved, never a check: the
 * signature is still verified with the key, and equal text imports to an equal key.
 */
class DerivedCache<T> {
	readonly #entries = new Map<string, Promise<T>>();

	get(text: string, derive: () => Promise<T>): Promise<T> {
		const cached = this.#entries.get(text);
		if (cached !== undefined) {
			// touched: the most recently used goes to the end, so the oldest is dropped first
			this.#entries.delete(text);
			this.#entries.set(text, cached);
			return cached;
		}
		const derived = derive();
		this.#entries.set(text, derived);
		// a key that fails to import is refused each time, not remembered
		derived.catch(() => this.#entries.delete(text));
		if (this.#entries.size > MAX_ENTRIES) {
			this.#entries.delete(this.#entries.keys().next().value!);
		}
		return derived;
	}
}

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

const embeddedKeys = new DerivedCache<VerifyKey>();
const importedKeys = new DerivedCache<VerifyKey>();
const thumbprints = new DerivedCache<string>();

/**
 * jose's `EmbeddedJWK` (the proof's own public key, with all its checks), imported once per
 * distinct `alg` and `jwk`: one DPoP key signs every proof of a session.
 */
export const cachedEmbeddedJwk = (
	protectedHeader: JWSHeaderParameters,
	token: FlattenedJWSInput,
): Promise<VerifyKey> => {
	const header = { ...protectedHeader, ...token.header };
	return embeddedKeys.get(`${String(header.alg)}\n${JSON.stringify(header.jwk)}`, () =>
		EmbeddedJWK(protectedHeader, token),
	);
};

/** `importJWK(jwk, alg)`, once per distinct `alg` and `jwk`: a client assertion key. */
export const cachedImportJwk = (jwk: JWK, alg: string): Promise<VerifyKey> => {
	return importedKeys.get(`${alg}\n${JSON.stringify(jwk)}`, () => importJWK(jwk, alg));
};

/** the SHA-256 JWK thumbprint (RFC 7638), once per distinct `jwk`. */
export const cachedThumbprint = (jwk: JWK): Promise<string> => {
	return thumbprints.get(JSON.stringify(jwk), () => calculateJwkThumbprint(jwk, 'sha256'));
};
