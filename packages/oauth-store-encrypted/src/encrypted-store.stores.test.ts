// encryptStore over every store: the store conformance suite through the wrapper, and what the
// database holds (no secret in clear, rows bound to their key, rotation).
import { describeStore } from '@atcute-oauth/store-conformance';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { StoreDecryptionError } from './errors.ts';
import { BACKENDS, type Backend } from './internal/test-backends.ts';
import { KEY_A, KEY_B, SECRETS, session, type TestSession, tamper } from './internal/test-fixtures.ts';

const ALICE = 'did:plc:alice000000000000000000';
const BOB = 'did:plc:bob00000000000000000000';

for (const kind of BACKENDS) {
	describe(`encryptStore over ${kind.name}`, () => {
		// a server of the kind's own (PostgreSQL's initdb and start) can take more than the default 10 s
		// on a loaded machine: the runtime matrix runs this file beside two other vitest lanes
		beforeAll(async () => kind.setup?.(), 120_000);
		afterAll(async () => kind.teardown?.());

		describeStore(
			`encryptStore(${kind.name})`,
			async () => {
				const backend = await kind.open();
				const { reopen } = backend;
				return {
					store: encryptStore(backend.store, { keys: [KEY_B, KEY_A] }),
					// another wrapper, with its own cache, as another process would have
					...(reopen && { reopen: async () => encryptStore(await reopen(), { keys: [KEY_B, KEY_A] }) }),
					cleanup: backend.cleanup,
				};
			},
			kind.capabilities,
		);

		describe('what the database holds', () => {
			let backend: Backend;
			beforeEach(async () => {
				backend = await kind.open();
			});
			afterEach(async () => backend.cleanup());

			it('holds no token and no DPoP private key in clear, only an envelope', async () => {
				const store = encryptStore(backend.store, { keys: [KEY_A] });
				await store.set(ALICE, session(ALICE));
				const raw = (await backend.raw(ALICE))!;
				expect(raw).toBeDefined();
				for (const secret of Object.values(SECRETS)) expect(raw).not.toContain(secret);
				expect(raw).not.toContain('dpopKey');
				expect(raw).not.toContain('refresh_token');
				const envelope = JSON.parse(raw);
				expect(Object.keys(envelope).sort()).toEqual(['ct', 'iv', 'kid', 'v']);
				expect(envelope).toMatchObject({ v: 1, kid: 'key-a' });
				expect(envelope.iv).toMatch(/^[A-Za-z0-9_-]{16}$/);
				// and it still reads back
				expect(await store.get(ALICE)).toEqual(session(ALICE));
			});

			it('refuses an entry copied from another DID (swapped rows), and deletes neither', async () => {
				const store = encryptStore(backend.store, { keys: [KEY_A] });
				await store.set(ALICE, session(ALICE));
				await store.set(BOB, session(BOB));
				const aliceRow = (await backend.raw(ALICE))!;
				await backend.writeRaw(BOB, aliceRow);

				const error = await store.get(BOB).catch((err: unknown) => err);
				expect(error).toBeInstanceOf(StoreDecryptionError);
				expect(error).toMatchObject({ code: 'authentication_failed', entryKey: BOB, keyId: 'key-a' });
				// the entry is kept for whoever fixes it, and the other is untouched
				expect(await backend.raw(BOB)).toBe(aliceRow);
				expect(await store.get(ALICE)).toEqual(session(ALICE));
			});

			it('refuses a tampered entry', async () => {
				const store = encryptStore(backend.store, { keys: [KEY_A] });
				await store.set(ALICE, session(ALICE));
				const envelope = JSON.parse((await backend.raw(ALICE))!);
				await backend.writeRaw(ALICE, JSON.stringify({ ...envelope, ct: tamper(envelope.ct) }));
				await expect(store.get(ALICE)).rejects.toMatchObject({
					code: 'authentication_failed',
					entryKey: ALICE,
				});
			});

			it('reads an entry of an older key and rewrites it under the first key on its next write', async () => {
				await encryptStore(backend.store, { keys: [KEY_A] }).set(ALICE, session(ALICE));
				const rotated = encryptStore(backend.store, { keys: [KEY_B, KEY_A] });
				expect(await rotated.keyIdOf(ALICE)).toBe('key-a');
				const read = (await rotated.get(ALICE)) as TestSession;
				expect(read).toEqual(session(ALICE));
				await rotated.set(ALICE, { ...read, tokenSet: { ...read.tokenSet, access_token: 'next' } });
				expect(JSON.parse((await backend.raw(ALICE))!).kid).toBe('key-b');
				// with key-a retired, it still reads
				const retired = encryptStore(backend.store, { keys: [KEY_B] });
				expect(((await retired.get(ALICE)) as TestSession).tokenSet.access_token).toBe('next');
			});
		});
	});
}
