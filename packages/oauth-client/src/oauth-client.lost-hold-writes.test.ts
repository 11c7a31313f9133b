// a write made under a lock whose hold is lost (a lease that ran out) may land over what another
// holder stored meanwhile: the sign-in's write, the sign-out's delete and the removed key's delete
// each check the lock's `lost` first, as a refresh does, and take the lock again when it is lost
import type { Did } from '@atcute/lexicons';
import { type CreateSigner, generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { LockUnavailableError } from './errors.ts';
import type { LockFunction } from './lock.ts';
import type { StoredSession } from './stored-types.ts';
import { countingSigner } from './test-utils/counting-signer.ts';
import { leasingLock } from './test-utils/leasing-lock.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * a session store whose next read, once `arm`ed, reads the stored value, then loses the current
 * lease and lets `meanwhile` (another process, the lock's next holder) run before it answers with
 * what it read: the holder goes on from a read made before the other's write.
 */
class StallingStore extends MapStore<StoredSession> {
	#armed: { meanwhile: () => Promise<void>; lose: () => void } | undefined;

	arm(lose: () => void, meanwhile: () => Promise<void>): void {
		this.#armed = { lose, meanwhile };
	}

	override async get(key: string): Promise<StoredSession | undefined> {
		const value = await super.get(key);
		const armed = this.#armed;
		if (armed !== undefined) {
			this.#armed = undefined;
			armed.lose();
			await armed.meanwhile();
		}
		return value;
	}
}

describe('a write under a lock whose hold is lost', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	/** a client on a leasing lock, and another process on the same store (and client key). */
	const twoProcesses = async (createSigner?: CreateSigner) => {
		const sessions = new StallingStore();
		const key = await generatePrivateKey('main');
		const { lock, leases } = leasingLock();
		const ours = await createTestClient(server, { key, sessions, requestLock: lock, createSigner });
		const other = await createTestClient(server, { key, sessions });
		const loseCurrent = () => leases.at(-1)!.abort(new Error('lease ran out'));
		return { sessions, ours, other, leases, loseCurrent };
	};

	/** the grants of alice made after the first `earlier` that are still live at the server. */
	const liveGrantsSince = (earlier: number) =>
		server
			.sessions(alice.did)
			.slice(earlier)
			.filter((grant) => grant.active);

	it("a sign-in does not overwrite the session another process signed in meanwhile, leaving that one's grant live", async () => {
		const { sessions, ours, other, loseCurrent } = await twoProcesses();
		const earlier = server.sessions(alice.did).length;
		await signIn(server, ours.client, alice.did);
		const { url } = await ours.client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });
		// the callback's read of the session it replaces is slow: its lease runs out, and the other
		// process signs the account in again (its write, then its revocation of the grant it replaced)
		sessions.arm(loseCurrent, async () => {
			await signIn(server, other.client, alice.did);
		});

		await ours.client.callback(params);
		expect(sessions.map.has(alice.did)).toBe(true);
		// every grant left live at the server is the one stored: none is live and kept nowhere
		expect(liveGrantsSince(earlier)).toHaveLength(1);
	});

	it("a sign-out does not delete the session another process signed in meanwhile, leaving that one's grant live", async () => {
		const { sessions, ours, other, loseCurrent } = await twoProcesses();
		const earlier = server.sessions(alice.did).length;
		await signIn(server, ours.client, alice.did);
		// the sign-out's read is slow: its lease runs out, and the other process signs the account in
		// again (which revokes the grant the sign-out read)
		sessions.arm(loseCurrent, async () => {
			await signIn(server, other.client, alice.did);
		});

		await ours.client.revoke(alice.did);
		// signed out: nothing stored, and no grant left live that nothing stores
		expect(sessions.map.has(alice.did)).toBe(false);
		expect(liveGrantsSince(earlier)).toEqual([]);
	});

	it('ending a session bound to a removed key does not delete the session another process signed in meanwhile', async () => {
		const sessions = new StallingStore();
		const oldKey = await generatePrivateKey('old');
		const newKey = await generatePrivateKey('new');
		const { lock, leases } = leasingLock();
		// signed in under the old key, which this process's keyset then drops
		const before = await createTestClient(server, { key: oldKey, sessions });
		await signIn(server, before.client, alice.did);
		const ours = await createTestClient(server, { key: newKey, sessions, requestLock: lock });
		const other = await createTestClient(server, { key: newKey, sessions });
		// restore reads the session (bound to the removed key) unlocked first; the read under the
		// lock is the one that stalls: its lease runs out, and the other process signs in again
		const read = sessions.get.bind(sessions);
		let reads = 0;
		sessions.get = async (key) => {
			if (++reads === 2) {
				sessions.arm(
					() => leases.at(-1)!.abort(new Error('lease ran out')),
					async () => {
						await signIn(server, other.client, alice.did);
					},
				);
			}
			return read(key);
		};

		await ours.client.restore(alice.did).catch(() => {});
		// the new sign-in, under a key the keyset holds, stays stored
		const stored = sessions.map.get(alice.did);
		expect(stored?.authMethod).toMatchObject({ method: 'private_key_jwt', kid: 'new' });
	});
	it('a sign-out whose hold is lost forgets the key of the session it read and revoked', async () => {
		const { createSigner, imports } = countingSigner();
		const { sessions, ours, other, loseCurrent } = await twoProcesses(createSigner);
		await signIn(server, ours.client, alice.did);
		const saved = structuredClone(sessions.map.get(alice.did)!);
		await ours.client.restore(alice.did, { refresh: false });
		const kept = imports.get(saved.dpopKey.d)!;
		// the sign-out's read is slow: its lease runs out, and the other process signs the account out
		sessions.arm(loseCurrent, () => other.client.revoke(alice.did));

		await ours.client.revoke(alice.did);
		expect(sessions.map.has(alice.did)).toBe(false);
		// the key of the session it read and revoked left memory: restored, it is imported again
		sessions.map.set(alice.did, saved);
		await ours.client.restore(alice.did, { refresh: false });
		expect(imports.get(saved.dpopKey.d)! - kept).toBe(1);
	});

	it('a sign-in whose hold is lost twice fails as LockUnavailableError, stores nothing and revokes its tokens', async () => {
		const sessions = new MapStore<StoredSession>();
		// every hold is lost before its write: a lock whose lease always runs out too soon
		let holds = 0;
		const requestLock: LockFunction = (_name, fn) => {
			holds++;
			return fn(AbortSignal.abort(new Error('lease ran out')));
		};
		const { client } = await createTestClient(server, { sessions, requestLock });
		const earlier = server.sessions(alice.did).length;
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });

		const error = await client.callback(params).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({
			transient: true,
			message: expect.stringMatching(/was lost before the session was written/),
		});
		expect(sessions.map.has(alice.did)).toBe(false);
		// taken again once, not for ever
		expect(holds).toBe(2);
		// the grant the code gave is not left live and stored nowhere
		expect(liveGrantsSince(earlier)).toEqual([]);
	});

	it('a sign-out whose hold is lost twice fails as LockUnavailableError and deletes nothing', async () => {
		const sessions = new MapStore<StoredSession>();
		let lose = false;
		const requestLock: LockFunction = (_name, fn) =>
			fn(lose ? AbortSignal.abort(new Error('lease ran out')) : new AbortController().signal);
		const { client } = await createTestClient(server, { sessions, requestLock });
		await signIn(server, client, alice.did);
		lose = true;

		const error = await client.revoke(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(sessions.map.has(alice.did)).toBe(true);
	});

	it('a sign-in whose hold is lost lets its caller give up while it waits for the lock again', async () => {
		const sessions = new StallingStore();
		const lease = new AbortController();
		let takes = 0;
		let secondTake!: () => void;
		const waitingAgain = new Promise<void>((resolve) => (secondTake = resolve));
		let release!: () => void;
		const released = new Promise<void>((resolve) => (release = resolve));
		const requestLock: LockFunction = async (_name, fn) => {
			if (++takes === 1) return fn(lease.signal);
			// another holder has the lock now: the second take waits for it
			secondTake();
			await released;
			return fn(new AbortController().signal);
		};
		const { client } = await createTestClient(server, { sessions, requestLock });
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });
		sessions.arm(
			() => lease.abort(new Error('lease ran out')),
			async () => {},
		);
		const controller = new AbortController();
		const outcome = client.callback(params, { signal: controller.signal }).catch((err: unknown) => err);
		await waitingAgain;
		controller.abort(new Error('caller gave up'));
		// the caller's abort, at once, not once the lock comes free
		const first = await Promise.race([
			outcome,
			waitingAgain.then(() => released).then(() => 'after the lock'),
		]);
		release();
		await outcome;
		expect(first).toMatchObject({ message: 'caller gave up' });
	});
});
