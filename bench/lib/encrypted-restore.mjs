// the cost of encryption at rest (issue 11): restore() on each store with and without
// encryptStore, and a set through it. the wrapper's default keeps recently decrypted entries
// (the ciphertext must be the one it decrypted), so "warm" is a session read again unchanged;
// "cold" turns that cache off (cacheSize: 0): every restore decrypts, as after another
// process's write. goal: ≤ 15 µs added per restore() on the memory store (warm).
import { MemoryStore, OAuthClient } from '@atcute/oauth-node-client';
import { encryptStore, generateStoreKey } from '@atcute/oauth-store-encrypted';

import { measureOp } from './measure.mjs';

const us = (ns) => `${(ns / 1000).toFixed(2)} µs`;

/** `adapters` is [name, store] as in stores.bench.mjs; each already holds `session` under `did`. */
export const benchEncryptedRestore = async ({ adapters, did, session }) => {
	const keys = [generateStoreKey('bench')];
	const restoreOn = (sessions) =>
		new OAuthClient({
			metadata: { redirect_uris: ['http://127.0.0.1/cb'], scope: 'atproto' },
			stores: { sessions, states: new MemoryStore() },
			actorResolver: { resolve: async () => ({}) },
		});

	const rows = {};
	for (const [name, store] of adapters) {
		// the wrapped entries live under their own key, so the plain rows above stay readable
		const encryptedDid = `${did}:encrypted`;
		const warm = encryptStore(store, { keys });
		const cold = encryptStore(store, { keys, cacheSize: 0 });
		await warm.set(encryptedDid, { ...session, tokenSet: { ...session.tokenSet, sub: encryptedDid } });

		const quick = name.startsWith('Redis') ? { cpuIterations: 500, quick: true } : {};
		const plainClient = restoreOn(store);
		const base = await measureOp(`${name}: restore()`, () => plainClient.restore(did), quick);
		const warmClient = restoreOn(warm);
		const warmRestore = await measureOp(
			`${name}: restore() encrypted, warm`,
			() => warmClient.restore(encryptedDid),
			quick,
		);
		const coldClient = restoreOn(cold);
		const coldRestore = await measureOp(
			`${name}: restore() encrypted, cold`,
			() => coldClient.restore(encryptedDid),
			quick,
		);
		const setPlain = await measureOp(`${name}: set`, () => store.set(`${did}:p`, session), quick);
		const setEncrypted = await measureOp(
			`${name}: set encrypted`,
			() => warm.set(`${did}:e`, session),
			quick,
		);
		rows[name] = {
			'restore() plain': us(base.wallNs),
			'+ warm (cache hit)': us(warmRestore.wallNs - base.wallNs),
			'+ warm cpu': us(warmRestore.cpuNs - base.cpuNs),
			'+ cold (decrypt)': us(coldRestore.wallNs - base.wallNs),
			'+ cold cpu': us(coldRestore.cpuNs - base.cpuNs),
			'+ set (encrypt)': us(setEncrypted.wallNs - setPlain.wallNs),
		};
		for (const key of [`${did}:p`, `${did}:e`, encryptedDid]) await store.delete(key);
	}
	console.log('\nencryptStore: time added to each operation (wall avg unless cpu; one caller at a time)');
	console.table(rows);
};
