import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { IdentityMismatchError, OAuthResponseError, TokenRefreshError } from './errors.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { countingSigner } from './test-utils/counting-signer.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** a map store whose next read, once asked for (`holdNextGet`), answers only when released. */
class GatedStore<V> extends MapStore<V> {
	#held: { reached: () => void; go: Promise<void> } | undefined;

	holdNextGet(): { reached: Promise<void>; release: () => void } {
		let reached!: () => void;
		let release!: () => void;
		const arrived = new Promise<void>((resolve) => (reached = resolve));
		this.#held = { reached, go: new Promise<void>((resolve) => (release = resolve)) };
		return { reached: arrived, release };
	}

	override async get(key: string): Promise<V | undefined> {
		const value = await super.get(key);
		const held = this.#held;
		this.#held = undefined;
		held?.reached();
		await held?.go;
		return value;
	}
}

describe("an ended session's DPoP private key leaves the client's memory", () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	const setUp = async () => {
		const { createSigner, imports } = countingSigner();
		const test = await createTestClient(server, { createSigner });
		await signIn(server, test.client, alice.did);
		const saved = structuredClone(test.sessions.map.get(alice.did)!) as StoredSession;
		const d = saved.dpopKey.d;
		// kept in memory while the session lives: restored again, it is not imported again
		await test.client.restore(alice.did);
		const kept = imports.get(d)!;
		await test.client.restore(alice.did);
		expect(imports.get(d)).toBe(kept);
		/** how many times the key was imported after the session came back from `saved`. */
		const importedAgain = async () => {
			test.sessions.map.set(alice.did, saved);
			await test.client.restore(alice.did, { refresh: false });
			return imports.get(d)! - kept;
		};
		return { ...test, imports, saved, importedAgain };
	};

	it('at a sign-out by DID', async () => {
		const { client, importedAgain } = await setUp();
		await client.revoke(alice.did);
		expect(await importedAgain()).toBe(1);
	});

	it("at a session object's signOut()", async () => {
		const { client, importedAgain } = await setUp();
		await (await client.restore(alice.did)).signOut();
		expect(await importedAgain()).toBe(1);
	});

	it("at a session object's signOut() after another process replaced the session", async () => {
		const { client, sessions, importedAgain } = await setUp();
		const held = await client.restore(alice.did);
		// the account signs in again through another process on the same store
		const other = await createTestClient(server, { sessions });
		await signIn(server, other.client, alice.did);
		await held.signOut();
		expect(await importedAgain()).toBe(1);
	});

	it('at a sign-out while a restore() of the session read it, before it imported the key', async () => {
		const { createSigner, imports } = countingSigner();
		const sessions = new GatedStore<StoredSession>();
		const { client } = await createTestClient(server, { createSigner, sessions });
		await signIn(server, client, alice.did);
		const saved = structuredClone(sessions.map.get(alice.did)!);
		const d = saved.dpopKey.d;

		const read = sessions.holdNextGet();
		const restoring = client.restore(alice.did);
		await read.reached;
		await client.revoke(alice.did);
		read.release();
		await restoring;

		// the signed-out session's key was not kept: a session holding it is imported again
		const before = imports.get(d)!;
		sessions.map.set(alice.did, saved);
		await client.restore(alice.did, { refresh: false });
		expect(imports.get(d)! - before).toBe(1);
	});

	it('keeps the key of a session restored while another account signs out', async () => {
		const { createSigner, imports } = countingSigner();
		const sessions = new MapStore<StoredSession>();
		const { client } = await createTestClient(server, { sessions, createSigner });
		const bob = server.createAccount({ handle: 'restoring-bob.test' }) as { did: Did };
		await signIn(server, client, alice.did);
		await signIn(server, client, bob.did);
		const d = sessions.map.get(alice.did)!.dpopKey.d;
		await client.restore(alice.did, { refresh: false });
		const kept = imports.get(d)!;

		// bob signs out while alice's restore reads the store
		const read = sessions.get.bind(sessions);
		sessions.get = async (key) => {
			const value = await read(key);
			sessions.get = read;
			await client.revoke(bob.did);
			return value;
		};
		await client.restore(alice.did, { refresh: false });
		// alice's session lives on: its key is kept, not imported again
		await client.restore(alice.did, { refresh: false });
		expect(imports.get(d)! - kept).toBe(0);
	});

	it('when a refresh ends the session', async () => {
		const { client, importedAgain } = await setUp();
		server.revokeAllTokensFor(alice.did);
		await expect(client.restore(alice.did, { refresh: true })).rejects.toBeInstanceOf(TokenRefreshError);
		expect(await importedAgain()).toBe(1);
	});

	it('when a new sign-in of the account replaces the session', async () => {
		const { client, importedAgain } = await setUp();
		await signIn(server, client, alice.did);
		expect(await importedAgain()).toBe(1);
	});

	describe("when a sign-in's callback fails once its state is spent", () => {
		/**
		 * signs alice in, then starts another sign-in and completes it through `complete`, which
		 * fails; answers how many times the failed sign-in's DPoP key is imported when a session
		 * holding it is restored afterwards (1 once it was forgotten, 0 while the client keeps it).
		 */
		const importsAfterFailure = async (
			complete: (client: Awaited<ReturnType<typeof setUp>>['client'], url: URL) => Promise<unknown>,
		) => {
			const test = await setUp();
			const { url } = await test.client.authorize({ target: { type: 'account', identifier: alice.did } });
			const [state] = [...test.states.map.values()] as StoredState[];
			const d = state!.dpopKey.d;
			await complete(test.client, url);
			// the callback imported it to make its proofs
			const before = test.imports.get(d)!;
			expect(before).toBeGreaterThan(0);
			test.sessions.map.set(alice.did, { ...test.saved, dpopKey: state!.dpopKey });
			await test.client.restore(alice.did, { refresh: false });
			return test.imports.get(d)! - before;
		};

		it('when the server refuses the code', async () => {
			const again = await importsAfterFailure(async (client, url) => {
				const params = await server.authorize(url, { did: alice.did });
				params.set('code', 'not-a-code-the-server-issued');
				await expect(client.callback(params)).rejects.toBeInstanceOf(OAuthResponseError);
			});
			expect(again).toBe(1);
		});

		it('when the tokens are for another account (they are revoked)', async () => {
			const bob = server.createAccount({ handle: 'bob.test' });
			const again = await importsAfterFailure(async (client, url) => {
				const params = await server.authorize(url, { did: bob.did });
				await expect(client.callback(params)).rejects.toBeInstanceOf(IdentityMismatchError);
			});
			expect(again).toBe(1);
		});
	});
});
