import type { Did } from '@atcute/lexicons';
import { MemoryStore, type Store, type StoredSession } from '@atcute/oauth-node-client';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer } from '../src/index.ts';
import { COOKIE_SECRET, generatePrivateKeyJwk, localServerOptions, PUBLIC_URL } from './helpers.ts';

let server: TestOAuthServer;
let alice: { did: Did; handle: string };

beforeAll(async () => {
	server = await startTestOAuthServer();
	alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
});

afterAll(async () => {
	await server.close();
});

/**
 * a session store whose writes wait for `release()` while `held` (`reached` once one waits), and
 * that fails every call once `closed` is set, as a database pool ended at shutdown does.
 */
class HeldStore implements Store<Did, StoredSession> {
	held = false;
	closed = false;
	readonly #memory = new MemoryStore<Did, StoredSession>();
	#release!: () => void;
	readonly #released = new Promise<void>((resolve) => {
		this.#release = resolve;
	});
	#reach!: () => void;
	readonly reached = new Promise<void>((resolve) => {
		this.#reach = resolve;
	});

	release(): void {
		this.#release();
	}

	#open(): void {
		if (this.closed) throw new Error('Cannot use a pool after calling end on the pool');
	}

	async get(key: Did): Promise<StoredSession | undefined> {
		this.#open();
		return this.#memory.get(key);
	}

	async set(key: Did, value: StoredSession): Promise<void> {
		if (this.held) {
			this.#reach();
			await this.#released;
		}
		this.#open();
		this.#memory.set(key, value);
	}

	async delete(key: Did): Promise<void> {
		this.#open();
		this.#memory.delete(key);
	}

	async clear(): Promise<void> {
		this.#open();
		this.#memory.clear();
	}
}

describe('shutting down (SIGTERM, running.close())', () => {
	it('waits for a refresh under way to store its tokens before the stores may be closed', async () => {
		const sessions = new HeldStore();
		const running = await startServer({
			...localServerOptions(server),
			publicUrl: PUBLIC_URL,
			privateKeyJwk: await generatePrivateKeyJwk(),
			cookieSecret: COOKIE_SECRET,
			port: 0,
			stores: { sessions, states: new MemoryStore() },
			log: () => {},
		});
		const { oauth } = running;
		server.registerClient({ ...oauth.metadata, jwks_uri: `${running.listenUrl}/jwks.json` });
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: alice.did } });
		await oauth.callback(await server.authorize(url, { did: alice.did }));
		const before = (await sessions.get(alice.did))!.tokenSet;

		// a refresh whose new tokens are on their way to the store when the signal comes
		sessions.held = true;
		const refreshing = oauth.restore(alice.did, { refresh: true });
		await sessions.reached;
		let closed = false;
		const first = running.close();
		// a second signal waits for the same shutdown, rather than fail (the server is closing)
		expect(running.close()).toBe(first);
		const closing = first.then(() => {
			// what server.ts and startServer's PostgreSQL backend do next: end the pools
			sessions.closed = true;
			closed = true;
		});
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(closed).toBe(false);

		sessions.release();
		await refreshing;
		await closing;
		sessions.closed = false;
		const after = (await sessions.get(alice.did))!.tokenSet;
		expect(after.refresh_token).not.toBe(before.refresh_token);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});
});
