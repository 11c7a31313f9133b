import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { signIn, type TestOAuthServer, type TestServerEnv, useTestServer } from './test-utils/setup.ts';
import type { OAuthTracer, TraceOperation } from './tracer.ts';

type Work = () => Promise<unknown>;

/** a tracer that misbehaves (as `misbehave` says) around `operation` only, once `on` is set. */
const tracerAround = (
	operation: TraceOperation,
	misbehave: (fn: Work) => unknown,
): { tracer: OAuthTracer; on: { value: boolean } } => {
	const on = { value: false };
	const tracer = {
		trace: (traced: TraceOperation, _context: unknown, fn: Work) =>
			on.value && traced === operation ? misbehave(fn) : fn(),
	} as unknown as OAuthTracer;
	return { tracer, on };
};

describe("a tracer that does not hand back its work's own outcome", () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	it('returns the stored sign-in when the tracer throws after the work succeeded (its span failed to end)', async () => {
		const { tracer, on } = tracerAround('callback', async (fn) => {
			await fn();
			throw new Error('span exporter down');
		});
		on.value = true;
		const { client, sessions } = await createTestClient(server, { tracer });
		// was: the sign-in rejected with the tracer's error, though its session was stored
		const { session } = await signIn(server, client, alice.did);
		expect(session.did).toBe(alice.did);
		expect(await sessions.get(alice.did)).toBeDefined();
	});

	it('returns the refreshed session when an async tracer awaits the work but returns nothing', async () => {
		const { tracer, on } = tracerAround('refresh', async (fn) => {
			await fn();
		});
		const { client } = await createTestClient(server, { tracer });
		await signIn(server, client, alice.did);
		on.value = true;
		// was: TypeError "Cannot destructure property 'session' of '(intermediate value)' as it is undefined."
		const session = await client.restore(alice.did, { refresh: true });
		expect(session.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('refuses a tracer that resolves without running the work, naming the tracer', async () => {
		const { tracer, on } = tracerAround('refresh', async () => undefined);
		const { client } = await createTestClient(server, { tracer });
		await signIn(server, client, alice.did);
		on.value = true;
		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toMatch(/trace\("refresh"\) settled without running the work/);
		expect(server.stats.token.refresh_token).toBe(0);
	});

	it('runs the work once when the tracer calls it twice (a retrying tracer): one refresh token spent', async () => {
		const { tracer, on } = tracerAround('refresh', async (fn) => {
			await fn();
			return fn();
		});
		const { client } = await createTestClient(server, { tracer });
		await signIn(server, client, alice.did);
		on.value = true;
		await client.restore(alice.did, { refresh: true });
		// was: 2, the second run sent the new refresh token as well
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('does not run the work the tracer starts after its own promise settled: a sign-out told failed changes nothing', async () => {
		let late: Promise<unknown> | undefined;
		const { tracer, on } = tracerAround('revoke', async (fn) => {
			late = new Promise((resolve) => setTimeout(resolve, 10)).then(fn);
			return undefined;
		});
		const { client, sessions } = await createTestClient(server, { tracer });
		const { session } = await signIn(server, client, alice.did);
		on.value = true;
		// was: resolved as signed out while the session was still stored, then deleted it 10 ms later
		await expect(session.signOut()).rejects.toThrow(/trace\("revoke"\) settled without running the work/);
		await expect(late).rejects.toThrow(/after its own promise settled/);
		expect(await sessions.get(alice.did)).toBeDefined();
		expect(server.stats.revoke).toBe(0);
	});

	it("hands back a request's response when the tracer throws synchronously after starting it", async () => {
		const { tracer, on } = tracerAround('request', (fn) => {
			void fn();
			throw new Error('tracer bug');
		});
		const { client } = await createTestClient(server, { tracer });
		const { session } = await signIn(server, client, alice.did);
		on.value = true;
		// was: handle() threw synchronously, where its caller expects a promise, and lost the response
		const response = await session.handle('/xrpc/com.atproto.server.getSession');
		expect(response.status).toBe(200);
	});

	it("sends the request when the tracer's isTracing throws, rather than throw out of handle()", async () => {
		let broken = false;
		const tracer: OAuthTracer = {
			trace: (_operation, _context, fn) => fn(),
			isTracing: () => {
				if (broken) throw new Error('tracer bug');
				return true;
			},
		};
		const { client } = await createTestClient(server, { tracer });
		const { session } = await signIn(server, client, alice.did);
		broken = true;
		// was: handle() threw synchronously, nothing sent
		const response = await session.handle('/xrpc/com.atproto.server.getSession');
		expect(response.status).toBe(200);
	});
});
