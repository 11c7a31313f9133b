import { subscribe, type TracingChannel, tracingChannel, unsubscribe } from 'node:diagnostics_channel';

import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
	diagnosticsChannelTracer,
	exportJwkKey,
	generatePrivateKey,
	MemoryStore,
	OAUTH_TRACING_CHANNELS,
	OAuthClient,
	type OAuthTracer,
	type StoredSession,
	type StoredState,
	type TraceContexts,
} from './index.ts';
import { createTestServerClient } from './test-utils/test-server-client.ts';

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

interface Message {
	channel: string;
	context: Record<string, unknown>;
}

/** subscribes to every event of every tracing channel, copying each message as it is published. */
const listen = () => {
	const messages: Message[] = [];
	const handlers: [string, (message: unknown) => void][] = [];
	for (const name of Object.values(OAUTH_TRACING_CHANNELS)) {
		for (const event of EVENTS) {
			const channel = `tracing:${name}:${event}`;
			const handler = (message: unknown) => {
				const context = message as Record<string, unknown>;
				// a snapshot: the library fills the context in as the operation advances
				messages.push({ channel, context: { ...context } });
			};
			subscribe(channel, handler);
			handlers.push([channel, handler]);
		}
	}
	return {
		messages,
		close: () => {
			for (const [channel, handler] of handlers) unsubscribe(channel, handler);
		},
	};
};

/** everything a message exposes, as text: its fields, and an error's message and causes. */
const render = (message: Message): string => {
	const parts: string[] = [];
	for (const [key, value] of Object.entries(message.context)) {
		parts.push(key);
		let error: unknown = value;
		if (error instanceof Error) {
			while (error instanceof Error) {
				parts.push(String(error), JSON.stringify(error));
				error = error.cause;
			}
		} else {
			parts.push(typeof value === 'string' ? value : JSON.stringify(value));
		}
	}
	return parts.join('\n');
};

describe('diagnostics_channel tracing', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	beforeAll(async () => {
		server = await startTestOAuthServer();
		alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	});
	afterAll(() => server.close());

	it('publishes authorize, callback, refresh, each request and sign-out, with no token, code or key in any message', async () => {
		const key = await generatePrivateKey('main');
		const sessions = new MemoryStore<Did, StoredSession>();
		const states = new MemoryStore<string, StoredState>();
		const oauth = await createTestServerClient(server, { keyset: [key], stores: { sessions, states } });

		const secrets: string[] = [(await exportJwkKey(key)).d];
		const { messages, close } = listen();
		try {
			const { url } = await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
			const state = (await states.get(server.stats.parRequests.at(-1)!.params.state!))!;
			secrets.push(state.verifier, state.dpopKey.d);

			const params = await server.authorize(url, { did: alice.did });
			secrets.push(params.get('code')!);
			const { session } = await oauth.callback(params);
			const signedIn = (await sessions.get(alice.did))!;
			secrets.push(signedIn.tokenSet.access_token, signedIn.tokenSet.refresh_token!);

			const rpc = new Client({ handler: session });
			expect((await rpc.get('com.atproto.server.getSession', {})).ok).toBe(true);
			const restored = await oauth.restore(alice.did, { refresh: true });
			const refreshed = (await sessions.get(alice.did))!;
			secrets.push(refreshed.tokenSet.access_token, refreshed.tokenSet.refresh_token!);
			const restoredRpc = new Client({ handler: restored });
			expect((await restoredRpc.get('com.atproto.server.getSession', {})).ok).toBe(true);

			// a failing refresh publishes its error
			server.behaviour.refreshFailure = 'status_503';
			await expect(oauth.restore(alice.did, { refresh: true })).rejects.toThrow();
			server.behaviour.refreshFailure = undefined;

			// a sign-out, and another with nothing left to sign out
			await session.signOut();
			await oauth.revoke(alice.did);
		} finally {
			close();
		}

		const starts = messages.filter((message) => message.channel.endsWith(':start'));
		expect(starts.map((message) => message.channel)).toEqual([
			'tracing:atcute:oauth:authorize:start',
			'tracing:atcute:oauth:callback:start',
			'tracing:atcute:oauth:request:start',
			'tracing:atcute:oauth:refresh:start',
			'tracing:atcute:oauth:request:start',
			'tracing:atcute:oauth:refresh:start',
			'tracing:atcute:oauth:revoke:start',
			'tracing:atcute:oauth:revoke:start',
		]);
		const ends = (name: string) =>
			messages.filter((message) => message.channel === `tracing:atcute:oauth:${name}:asyncEnd`);
		expect(ends('authorize')[0]!.context).toMatchObject({
			target: 'account',
			identifier: 'alice.test',
			issuer: server.issuer,
			result: undefined,
		});
		expect(ends('callback')[0]!.context).toMatchObject({ issuer: server.issuer, sub: alice.did });
		expect(ends('request')[0]!.context).toMatchObject({
			sub: alice.did,
			method: 'GET',
			origin: server.pdsUrl,
			pathname: '/xrpc/com.atproto.server.getSession',
			status: 200,
		});
		expect(ends('refresh')[0]!.context).toMatchObject({ sub: alice.did, issuer: server.issuer });
		expect(ends('revoke').map((message) => message.context)).toEqual([
			{
				sub: alice.did,
				cause: 'signed_out',
				issuer: server.issuer,
				revokedAtServer: true,
				clientId: oauth.metadata.client_id,
				result: undefined,
			},
			{ sub: alice.did, cause: 'revoked', clientId: oauth.metadata.client_id, result: undefined },
		]);
		const failed = messages.find((message) => message.channel === 'tracing:atcute:oauth:refresh:error');
		expect(failed?.context.error).toMatchObject({ name: 'OAuthTransientError', kind: 'server_error' });

		// the result of every operation (a session, tokens, a response) stays out of the messages
		for (const message of messages) {
			expect(message.context.result).toBeUndefined();
		}
		const text = messages.map(render).join('\n');
		expect(secrets.every((secret) => typeof secret === 'string' && secret.length >= 16)).toBe(true);
		for (const secret of secrets) {
			expect(text).not.toContain(secret);
		}
	});

	it('says whether a channel has subscribers, and a session skips tracing a request nobody observes', async () => {
		const request = OAUTH_TRACING_CHANNELS.request;
		expect(diagnosticsChannelTracer.isTracing?.('request')).toBe(false);
		const handler = () => {};
		subscribe(`tracing:${request}:start`, handler);
		try {
			expect(diagnosticsChannelTracer.isTracing?.('request')).toBe(true);
			expect(diagnosticsChannelTracer.isTracing?.('refresh')).toBe(false);
		} finally {
			unsubscribe(`tracing:${request}:start`, handler);
		}
		expect(diagnosticsChannelTracer.isTracing?.('request')).toBe(false);

		// a tracer that observes everything but requests
		const seen: string[] = [];
		const tracer: OAuthTracer = {
			trace(operation, _context, fn) {
				seen.push(operation);
				return fn();
			},
			isTracing: (operation) => operation !== 'request',
		};
		const oauth = await createTestServerClient(server, {
			metadata: {
				client_id: 'https://app.example.com/skip/oauth-client-metadata.json',
				redirect_uris: ['https://app.example.com/oauth/callback'],
				scope: ['atproto', 'transition:generic'],
			},
			tracer,
		});
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const { session } = await oauth.callback(await server.authorize(url, { did: alice.did }));
		expect((await new Client({ handler: session }).get('com.atproto.server.getSession', {})).ok).toBe(true);
		expect(seen).toEqual(['authorize', 'callback']);
	});

	it('hands over to tracePromise on a runtime whose TracingChannel has no hasSubscribers (Bun 1.4)', async () => {
		const request = OAUTH_TRACING_CHANNELS.request;
		// Bun's TracingChannel reads `undefined` there; its five channels still know. (Node's own
		// tracePromise reads it too, so here it publishes nothing: what Bun publishes is checked
		// under Bun by the runtime matrix)
		const prototype = Object.getPrototypeOf(tracingChannel(request)) as TracingChannel;
		const own = Object.getOwnPropertyDescriptor(prototype, 'hasSubscribers');
		expect(own).toBeDefined();
		Object.defineProperty(prototype, 'hasSubscribers', { configurable: true, get: () => undefined });
		const tracePromise = vi.spyOn(prototype, 'tracePromise');
		const handler = () => {};
		subscribe(`tracing:${request}:start`, handler);
		try {
			expect(diagnosticsChannelTracer.isTracing?.('request')).toBe(true);
			expect(diagnosticsChannelTracer.isTracing?.('refresh')).toBe(false);
			const context = { sub: alice.did, method: 'GET' } as TraceContexts['request'];
			expect(await diagnosticsChannelTracer.trace('request', context, async () => 7)).toBe(7);
			expect(tracePromise).toHaveBeenCalledTimes(1);
			expect(tracePromise.mock.calls[0]![1]).toBe(context);
		} finally {
			unsubscribe(`tracing:${request}:start`, handler);
			tracePromise.mockRestore();
			Object.defineProperty(prototype, 'hasSubscribers', own!);
		}
		expect(diagnosticsChannelTracer.isTracing?.('request')).toBe(false);
	});

	/** a loopback client of the test server that traces through `tracer`. */
	const clientTracedBy = (tracer: OAuthTracer) =>
		new OAuthClient({
			metadata: { redirect_uris: ['http://127.0.0.1/callback'], scope: ['atproto'] },
			stores: { sessions: new MemoryStore(), states: new MemoryStore() },
			actorResolver: new LocalActorResolver({
				handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
				didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
			}),
			allowHttp: true,
			tracer,
		});

	it('traces a service URL without its credentials or query, and the identifier trimmed', async () => {
		const contexts: unknown[] = [];
		const tracer: OAuthTracer = {
			trace(_operation, context, fn) {
				contexts.push(context);
				return fn();
			},
		};
		const oauth = clientTracedBy(tracer);
		const pds = new URL(server.pdsUrl);
		await oauth
			.authorize({ target: { type: 'pds', serviceUrl: `http://admin:s3cret@${pds.host}/x?api_key=k3y#f` } })
			.catch(() => {});
		await oauth.authorize({ target: { type: 'account', identifier: '  alice.test\n' } });
		// a URL object, which authorize takes too, is traced the same way
		await oauth.authorize({
			target: { type: 'pds', serviceUrl: new URL(`${server.pdsUrl}?api_key=k3y`) as never },
		});

		expect(contexts[0]).toMatchObject({ target: 'pds', serviceUrl: `http://${pds.host}/x` });
		expect(JSON.stringify(contexts[0])).not.toMatch(/s3cret|k3y/);
		expect(contexts[1]).toMatchObject({ target: 'account', identifier: 'alice.test' });
		expect(contexts[2]).toMatchObject({ target: 'pds', serviceUrl: `${pds.origin}/` });
		expect(JSON.stringify(contexts[2])).not.toMatch(/k3y/);
	});

	it('bounds what a visitor or the app can make a trace carry, never cutting a character in two', async () => {
		const contexts: Record<string, unknown>[] = [];
		const tracer: OAuthTracer = {
			trace(_operation, context, fn) {
				contexts.push(context as Record<string, unknown>);
				return fn();
			},
		};
		const oauth = clientTracedBy(tracer);
		const big = 'a'.repeat(1 << 20);
		await oauth.authorize({ target: { type: 'pds', serviceUrl: `${server.pdsUrl}/${big}` } }).catch(() => {});
		await oauth
			.authorize({ target: { type: 'account', identifier: `${'a'.repeat(255)}😀` } })
			.catch(() => {});

		expect(String(contexts[0]!.serviceUrl)).toBe(`${server.pdsUrl}/${big}`.slice(0, 512));
		expect(contexts[1]!.identifier).toBe('a'.repeat(255));
		for (const context of contexts) expect(JSON.stringify(context).length).toBeLessThan(1024);
	});

	it("fails a session's call the same way whether it is traced or not, for a method that is no text", async () => {
		const traced: string[] = [];
		const tracer: OAuthTracer = {
			trace(operation, context, fn) {
				if (operation === 'request') traced.push((context as TraceContexts['request']).method);
				return fn();
			},
		};
		const oauth = clientTracedBy(tracer);
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const { session } = await oauth.callback(await server.authorize(url, { did: alice.did }));
		const unprintable = {
			toString() {
				throw new Error('no text');
			},
		};
		for (const method of [42, unprintable]) {
			let returned: Promise<Response> | undefined;
			// a promise, as without a tracer: never a throw where the caller expects one
			expect(() => {
				returned = session.handle('/xrpc/com.atproto.server.getSession', { method: method as never });
			}).not.toThrow();
			await returned?.catch(() => {});
		}
		expect(traced).toEqual(['42']);
	});

	it('lets an app give its own tracer instead', async () => {
		const seen: string[] = [];
		const tracer: OAuthTracer = {
			trace(operation, _context, fn) {
				seen.push(operation);
				return fn();
			},
		};
		const oauth = clientTracedBy(tracer);
		const { messages, close } = listen();
		try {
			await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		} finally {
			close();
		}
		expect(seen).toEqual(['authorize']);
		expect(messages).toEqual([]);
	});
});
