import type { Did } from '@atcute/lexicons';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { OAuthSession } from './oauth-session.ts';
import type { OAuthSessionEvent, SessionEventListener } from './session-events.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** a listener that records every event, in order. */
const recorder = (): { events: OAuthSessionEvent[]; listener: SessionEventListener } => {
	const events: OAuthSessionEvent[] = [];
	return { events, listener: (event) => void events.push(event) };
};

const summary = (event: OAuthSessionEvent): string => {
	return event.type === 'deleted' ? `deleted ${event.sub} ${event.cause}` : `updated ${event.sub}`;
};

describe('OAuthClient session events', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env));

	it('reports a sign-in and a refresh as updated, with the stored session', async () => {
		const { client, sessions } = await createTestClient(server);
		const { events, listener } = recorder();
		client.addEventListener(listener);

		await signIn(server, client, alice.did);
		await expect.poll(() => events.map(summary)).toEqual([`updated ${alice.did}`]);
		const first = events[0]!;
		expect(first.type === 'updated' && first.session).toBeInstanceOf(OAuthSession);

		await client.restore(alice.did, { refresh: true });
		await expect.poll(() => events.map(summary)).toEqual([`updated ${alice.did}`, `updated ${alice.did}`]);
		const second = events[1]!;
		// the event's session carries what was stored by the refresh
		expect(second.type === 'updated' && second.session.getTokenInfo().expiresAt?.getTime()).toBe(
			sessions.map.get(alice.did)!.tokenSet.expires_at,
		);
	});

	it('reports each way a session ends as deleted, with its cause', async () => {
		const { client, sessions } = await createTestClient(server);
		const { events, listener } = recorder();
		client.addEventListener(listener);

		const { session } = await signIn(server, client, alice.did);
		await session.signOut();
		await signIn(server, client, alice.did);
		await client.revoke(alice.did);
		await signIn(server, client, alice.did);
		server.behaviour.refreshFailure = 'invalid_grant';
		await client.restore(alice.did, { refresh: true }).catch(() => {});
		server.behaviour.refreshFailure = undefined;

		// the same store, read by a client whose keyset no longer holds the session's key
		await signIn(server, client, alice.did);
		const rotated = await createTestClient(server, { keyset: [await generatePrivateKey('next')], sessions });
		rotated.client.addEventListener(listener);
		await rotated.client.restore(alice.did).catch(() => {});

		await expect
			.poll(() => events.map(summary).filter((line) => line.startsWith('deleted')))
			.toEqual([
				`deleted ${alice.did} signed_out`,
				`deleted ${alice.did} revoked`,
				`deleted ${alice.did} invalid_grant`,
				`deleted ${alice.did} key_removed`,
			]);
	});

	it('says whether the server confirmed a sign-out (revokedAtServer), and only for a sign-out', async () => {
		const { client } = await createTestClient(server);
		const { events, listener } = recorder();
		client.addEventListener(listener);

		await (await signIn(server, client, alice.did)).session.signOut();
		server.behaviour.revokeFailure = 'status_503';
		await signIn(server, client, alice.did);
		await client.revoke(alice.did);
		server.behaviour.revokeFailure = undefined;
		await signIn(server, client, alice.did);
		server.behaviour.refreshFailure = 'invalid_grant';
		await client.restore(alice.did, { refresh: true }).catch(() => {});
		server.behaviour.refreshFailure = undefined;

		await expect.poll(() => events.filter((event) => event.type === 'deleted')).toHaveLength(3);
		const deleted = events.filter((event) => event.type === 'deleted');
		expect(deleted[0]).toMatchObject({ cause: 'signed_out', revokedAtServer: true });
		expect(deleted[1]).toMatchObject({ cause: 'revoked', revokedAtServer: false });
		expect(deleted[2]).toMatchObject({ cause: 'invalid_grant' });
		expect(deleted[2]).not.toHaveProperty('revokedAtServer');
	});

	it('keeps the flow and the other listeners going when a listener throws or rejects', async () => {
		const { client } = await createTestClient(server);
		const { events, listener } = recorder();
		client.addEventListener(() => {
			throw new Error('listener bug');
		});
		client.addEventListener(async () => {
			throw new Error('async listener bug');
		});
		client.addEventListener(listener);

		const { session } = await signIn(server, client, alice.did);
		await client.restore(alice.did, { refresh: true });
		await session.signOut();
		await expect
			.poll(() => events.map(summary))
			.toEqual([`updated ${alice.did}`, `updated ${alice.did}`, `deleted ${alice.did} signed_out`]);
	});

	it('does not wait for a slow listener, nor hold the lock while it runs', async () => {
		const { client } = await createTestClient(server);
		let release!: () => void;
		const gate = new Promise<void>((resolve) => {
			release = resolve;
		});
		let started = 0;
		let finished = 0;
		client.addEventListener(async () => {
			started++;
			await gate;
			finished++;
		});

		await signIn(server, client, alice.did);
		// a refresh takes the same lock the sign-in stored under: it must not wait for the listener
		await client.restore(alice.did, { refresh: true });
		await client.revoke(alice.did);
		await expect.poll(() => started).toBe(3);
		expect(finished).toBe(0);
		release();
		await expect.poll(() => finished).toBe(3);
	});

	it('stops calling a removed listener', async () => {
		const { client } = await createTestClient(server);
		const { events, listener } = recorder();
		client.addEventListener(listener);
		await signIn(server, client, alice.did);
		await expect.poll(() => events.length).toBe(1);

		client.removeEventListener(listener);
		await client.restore(alice.did, { refresh: true });
		await client.revoke(alice.did);
		// give any stray delivery the time to land
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(events).toHaveLength(1);
	});

	it('does not call a listener another listener removed while handling the same event', async () => {
		const { client } = await createTestClient(server);
		const calls: string[] = [];
		const second: SessionEventListener = (event) => {
			calls.push(`second ${event.type}`);
		};
		client.addEventListener((event) => {
			calls.push(`first ${event.type}`);
			client.removeEventListener(second);
		});
		client.addEventListener(second);
		await signIn(server, client, alice.did);
		await client.revoke(alice.did);
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(calls).toEqual(['first updated', 'first deleted']);
	});

	it('gives each listener its own event: one that changes it changes nothing for the next', async () => {
		const { client } = await createTestClient(server);
		// a logging listener that drops what it must not log, on the event itself (the types allow it)
		client.addEventListener((event) => {
			if (event.type === 'updated') delete (event as Partial<typeof event>).session;
			else event.cause = 'revoked';
		});
		const { events, listener } = recorder();
		client.addEventListener(listener);

		const { session } = await signIn(server, client, alice.did);
		await session.signOut();
		await expect.poll(() => events.length).toBe(2);
		// was: the second listener got an updated event without its session, and a sign-out as revoked
		expect(events[0]!.type === 'updated' && events[0]!.session).toBeInstanceOf(OAuthSession);
		expect(events.map(summary)).toEqual([`updated ${alice.did}`, `deleted ${alice.did} signed_out`]);
	});

	it('refuses a listener that is not a function', async () => {
		const { client } = await createTestClient(server);
		expect(() => client.addEventListener('nope' as unknown as SessionEventListener)).toThrow(TypeError);
	});
});
