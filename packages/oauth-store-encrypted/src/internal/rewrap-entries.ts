import type { Store } from '@atcute/oauth-client';

import { RewrapAbortedError, StoreDecryptionError } from '../errors.ts';
import type { RewrapReport } from '../rewrap-options.ts';
import { expiryOf } from './entry-expiry.ts';
import { checkEntryKey } from './entry-key.ts';
import { checkEnvelope, isEnvelopeLike, openEnvelope, sealEnvelope } from './envelope.ts';
import type { KeyRing } from './key-ring.ts';
import type { PlaintextCache } from './plaintext-cache.ts';
import { typeOf } from './type-of.ts';

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
 * dry run, which decrypts every entry to check it), re-encrypts under the primary key every entry
 * another key (or none) encrypts, inside `locked(key, visit)`. entries with an expiry are never
 * rewritten. entries that fail to decrypt are reported and left as they are; any other error
 * (and one thrown by `onProgress`, or its promise's rejection) ends the visit as a
 * `RewrapAbortedError` holding the report.
 */
export const rewrapEntries = async <K extends string>(
	target: RewrapTarget,
	keys: Iterable<K> | AsyncIterable<K>,
	locked: ((key: K, visit: (lost: AbortSignal | undefined) => Promise<void>) => Promise<void>) | undefined,
	onProgress: ((report: Readonly<RewrapReport<K>>) => void) | undefined,
): Promise<RewrapReport<K>> => {
	const { inner, ring, cache, readPlaintext } = target;
	const dryRun = locked === undefined;
	const report: RewrapReport<K> = {
		checked: 0,
		missing: 0,
		// no prototype: a stored kid such as "__proto__" or "constructor" is an ordinary count
		byKeyId: Object.create(null) as Record<string, number>,
		plaintext: 0,
		expiring: 0,
		rewrapped: 0,
		failed: [],
	};

	const visit = async (key: K, lost?: AbortSignal): Promise<void> => {
		// re-read here, inside the lock: what a concurrent refresh stored is what gets rewrapped
		const raw = await inner.get(key);
		// null: a missing entry too, as the OAuth client reads it (ioredis, pg)
		if (raw == null) {
			report.missing++;
			return;
		}
		// an authorization state: the callback takes it without any lock, so a write here could
		// put back a state it has just taken (and used). it expires soon anyway: never rewrite it
		const expiring = expiryOf(raw) !== undefined;
		let text: string;
		try {
			if (isEnvelopeLike(raw)) {
				const envelope = checkEnvelope(key, raw);
				report.byKeyId[envelope.kid] = (report.byKeyId[envelope.kid] ?? 0) + 1;
				if (expiring) report.expiring++;
				// a dry run checks every entry; a run that writes reads only what it rewrites
				if (!dryRun && (expiring || envelope.kid === ring.primary.id)) return;
				text = await openEnvelope(ring, key, envelope);
			} else {
				report.plaintext++;
				if (expiring) report.expiring++;
				if (!dryRun && expiring) return;
				text = JSON.stringify(readPlaintext(key, raw));
			}
		} catch (err) {
			if (!(err instanceof StoreDecryptionError)) throw err;
			report.failed.push({ key, error: err });
			return;
		}
		if (dryRun) return;
		// no expiry to keep: an entry with one was left above
		const envelope = await sealEnvelope(ring, key, text, undefined);
		// the hold lost by now (a lease that ran out while a read or a write stalled): another holder
		// may have stored a refreshed session since the read, which this write would overwrite with
		// spent tokens. the entry is left as it is, and the rewrap stops, to be run again
		if (lost?.aborted) {
			throw new Error(
				'the lock was lost before the entry was rewritten; it was left as it is, as another holder may have stored a newer one (run the rewrap again)',
				{ cause: lost.reason },
			);
		}
		cache.delete(key);
		await inner.set(key, envelope);
		report.rewrapped++;
	};

	/**
	 * what the keys yielded last, so an error can say where it stopped; undefined between keys.
	 * not always a string: the error quotes and keeps only a string, and names anything else by
	 * its type (a row object holds the very secrets the store encrypts).
	 */
	let current: unknown;
	try {
		for await (const key of keys as Iterable<unknown> | AsyncIterable<unknown>) {
			current = key;
			report.checked++;
			// a row object where its key belongs (a SQL query without .pluck()) would be looked up,
			// found missing and counted so, and the rewrap reported as done while it did nothing
			if (typeof key !== 'string') {
				throw new TypeError(`keys must yield strings (entry keys), got ${typeOf(key)}`);
			}
			// before the lock and the read: a key no AAD can tell apart is the caller's error
			checkEntryKey(key);
			if (locked === undefined) await visit(key as K);
			else await locked(key as K, (lost) => visit(key as K, lost));
			const reported: unknown = onProgress?.(report);
			// an async reporter (a log sink) is waited for: its rejection ends the rewrap as a throw
			// does. left alone, it was an unhandled rejection, which ends a Node process, and the
			// rewrap reported success
			if (typeof (reported as PromiseLike<unknown> | undefined)?.then === 'function') await reported;
			current = undefined;
		}
	} catch (err) {
		// a store or lock failure halfway: keep what was done, so the caller can tell and resume
		throw new RewrapAbortedError<K>(current as K | undefined, report, err);
	}
	return report;
};
