import type { Store } from '@atcute/oauth-client';

import { StoreDecryptionError } from '../errors.ts';
import type { RewrapReport } from '../rewrap-options.ts';
import { expiryOf } from './entry-expiry.ts';
import { checkEnvelope, isEnvelopeLike, openEnvelope, sealEnvelope } from './envelope.ts';
import type { KeyRing } from './key-ring.ts';
import type { PlaintextCache } from './plaintext-cache.ts';

/** what `rewrapEntries` needs of an encrypted store. */
export interface RewrapTarget {
	inner: Store<string, unknown>;
	ring: KeyRing;
	cache: PlaintextCache;
	/** a plaintext entry's value, or the `plaintext` error when the store does not allow them. */
	readPlaintext: (key: string, raw: unknown) => unknown;
}

/**
 * visits `keys` one at a time: counts each entry by key id and, unless `locked` is undefined (a
 * dry run), re-encrypts under the primary key every entry another key (or none) encrypts, inside
 * `locked(key, visit)`. entries that fail to decrypt are reported and left as they are.
 */
export const rewrapEntries = async <K extends string>(
	target: RewrapTarget,
	keys: Iterable<K> | AsyncIterable<K>,
	locked: ((key: K, visit: () => Promise<void>) => Promise<void>) | undefined,
): Promise<RewrapReport<K>> => {
	const { inner, ring, cache, readPlaintext } = target;
	const dryRun = locked === undefined;
	const report: RewrapReport<K> = {
		checked: 0,
		missing: 0,
		byKeyId: {},
		plaintext: 0,
		rewrapped: 0,
		failed: [],
	};

	const visit = async (key: K): Promise<void> => {
		// re-read here, inside the lock: what a concurrent refresh stored is what gets rewrapped
		const raw = await inner.get(key);
		if (raw === undefined) {
			report.missing++;
			return;
		}
		let text: string;
		let exp: number | undefined;
		try {
			if (isEnvelopeLike(raw)) {
				const envelope = checkEnvelope(key, raw);
				report.byKeyId[envelope.kid] = (report.byKeyId[envelope.kid] ?? 0) + 1;
				if (dryRun || envelope.kid === ring.primary.id) return;
				text = await openEnvelope(ring, key, envelope);
				exp = envelope.exp;
			} else {
				report.plaintext++;
				if (dryRun) return;
				text = JSON.stringify(readPlaintext(key, raw));
				// no envelope to say when it expires: a state keeps its own expiresAt, not to live for ever
				exp = expiryOf(raw);
			}
		} catch (err) {
			if (!(err instanceof StoreDecryptionError)) throw err;
			report.failed.push({ key, error: err });
			return;
		}
		const envelope = await sealEnvelope(ring, key, text, exp);
		cache.delete(key);
		await inner.set(key, envelope, exp === undefined ? undefined : { expiresAt: exp });
		report.rewrapped++;
	};

	for await (const key of keys) {
		report.checked++;
		if (locked === undefined) await visit(key);
		else await locked(key, () => visit(key));
	}
	return report;
};
