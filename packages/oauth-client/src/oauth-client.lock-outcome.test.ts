import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { createMemoryLock, type LockFunction } from './lock.ts';
import { signIn, type TestOAuthServer, type TestServerEnv, useTestServer } from './test-utils/setup.ts';

describe('a requestLock that runs its function but does not hand back its outcome', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	it("takes the function's own result when the lock drops it (`await lock(name, fn)` without return)", async () => {
		const inner = createMemoryLock();
		// fn runs to its end under the lock; only its result is dropped
		const requestLock: LockFunction = async (name, fn) => {
			await inner(name, fn);
			return undefined as never;
		};
		const { client, sessions } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		// was: TypeError "Cannot destructure property 'session' of '(intermediate value)' as it is undefined."
		const session = await client.restore(alice.did, { refresh: true });
		expect(session.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(await sessions.get(alice.did)).toBeDefined();
	});

	it("throws the function's own error when the lock swallows it", async () => {
		const inner = createMemoryLock();
		const requestLock: LockFunction = async (name, fn) => {
			try {
				return await inner(name, fn);
			} catch {
				return undefined as never;
			}
		};
		const { client, sessions } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		// a session stored without its refresh token: the refresh fails inside the lock
		const stored = (await sessions.get(alice.did)) as unknown as Record<string, unknown>;
		await sessions.set(alice.did, {
			...stored,
			tokenSet: { ...(stored.tokenSet as object), refresh_token: undefined },
		} as never);
		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect((error as Error).message).not.toMatch(/Cannot (destructure|read)/);
		expect((error as { code?: string }).code).toBe('ERR_TOKEN_REFRESH');
	});

	it('refuses a lock that resolves before its function has finished, naming requestLock', async () => {
		const inner = createMemoryLock();
		const running: Promise<unknown>[] = [];
		let early = false;
		const requestLock: LockFunction = async (name, fn) => {
			if (!early) return inner(name, fn);
			running.push(inner(name, fn).catch(() => {}));
			return undefined as never;
		};
		const { client } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		early = true;
		const refreshes = server.stats.token.refresh_token;
		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		await Promise.all(running);
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toMatch(
			/requestLock resolved before the function it was given finished/,
		);
		// the function, let go of, ran on outside the lock and found its hold gone before it sent
		// the refresh token: another process may be sending it too
		expect(server.stats.token.refresh_token).toBe(refreshes);
	});

	it('runs its function once when the lock calls it twice (a retrying lock): one refresh token spent', async () => {
		const inner = createMemoryLock();
		const requestLock: LockFunction = (name, fn) =>
			inner(name, async () => {
				await fn();
				return fn();
			});
		const { client } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		const session = await client.restore(alice.did, { refresh: true });
		expect(session.did).toBe(alice.did);
		// was: 2, the second run sent the refresh token the first had just stored
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('hands back the outcome of a function that finished when the lock never settles after it (its release hangs)', {
		timeout: 30_000,
	}, async () => {
		const inner = createMemoryLock();
		let hang = false;
		// runs fn under the lock, then waits on a release that never answers (a Redis client that
		// queues commands for ever while Redis is away, say)
		const requestLock: LockFunction = (name, fn) =>
			hang ? inner(name, fn).then(() => new Promise<never>(() => {})) : inner(name, fn);
		const { client, sessions } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did)!.tokenSet.refresh_token;
		hang = true;
		// was: never settled, nor did every call of the account's that joined the refresh, nor close()
		const session = await client.restore(alice.did, { refresh: true });
		expect(session.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).not.toBe(before);
		await expect(client.close()).resolves.toBeUndefined();
	});
});
