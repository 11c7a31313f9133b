import type { Did } from '@atcute/lexicons';
import { generatePrivateKey, Keyset } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { buildClientMetadata } from './client-metadata.ts';
import { OAuthCallbackError, SessionNotFoundError } from './errors.ts';
import type { OAuthClientOptions } from './oauth-client-options.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** a caller without types: what JavaScript, or a value from the environment, can pass. */
const loose = <T>(value: unknown): T => value as T;

describe('OAuthClient input checks', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env));

	describe('the constructor', () => {
		it('refuses an option it does not know, naming it and those it takes', async () => {
			await expect(createTestClient(server, loose({ allowHTTP: true }))).rejects.toThrow(
				/^new OAuthClient\(options\) has no option "allowHTTP" \(it takes metadata, keyset, stores, .*tracer\)$/,
			);
			// 2.0.1's form_post: a POST callback route would wait for ever
			await expect(createTestClient(server, loose({ responseMode: 'form_post' }))).rejects.toThrow(
				/has no option "responseMode" .*; this client always asks for the query response mode/,
			);
		});

		it.each(['false', '0', 1])('refuses allowHttp %j, which would turn plain http on', async (allowHttp) => {
			await expect(createTestClient(server, { allowHttp: loose(allowHttp) })).rejects.toThrow(
				/^allowHttp must be a boolean, got (string|number)$/,
			);
		});

		const notFunctions: [keyof OAuthClientOptions, unknown, string][] = [
			['fetch', null, 'null'],
			['fetch', {}, 'object'],
			['now', Date.now(), 'number'],
			['sha256', 'sha256', 'string'],
			['createSigner', 'node', 'string'],
		];
		it.each(notFunctions)('refuses %s: %j, naming it', async (name, value, kind) => {
			const error = await createTestClient(server, { [name]: value }).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(TypeError);
			expect((error as Error).message).toBe(`${name} must be a function, got ${kind}`);
		});

		it('refuses stores.dpopNonces without get and set', async () => {
			const stores = {
				sessions: new MapStore<StoredSession>(),
				states: new MapStore<StoredState>(),
				dpopNonces: loose<OAuthClientOptions['stores']['dpopNonces']>({}),
			};
			await expect(createTestClient(server, { stores })).rejects.toThrow(
				/stores\.dpopNonces must be a DpopNonceCache/,
			);
		});

		it('refuses a keyset that is a single key or null, and a key that was not awaited', async () => {
			const key = await generatePrivateKey('main');
			for (const keyset of [key, null]) {
				await expect(createTestClient(server, { keyset: loose(keyset) })).rejects.toThrow(
					/^keyset must be a Keyset or an array of private keys \(from importJwkKey\(\)\), got (object|null)$/,
				);
			}
			// what `[importJwkKey(jwk)]` without `await` gives
			await expect(createTestClient(server, { keyset: loose([Promise.resolve(key)]) })).rejects.toThrow(
				'keyset entry 0 is a Promise: await importJwkKey() first',
			);
		});
	});

	it('buildClientMetadata takes a list of keys as OAuthClient does', async () => {
		const key = await generatePrivateKey('main');
		const input = {
			client_id: 'https://example.com/oauth-client-metadata.json',
			redirect_uris: ['https://example.com/oauth/callback'],
			scope: 'atproto',
		};
		expect(buildClientMetadata(input, [key]).jwks).toEqual(new Keyset([key]).publicJwks);
		expect(() => buildClientMetadata(input, loose(undefined))).toThrow(/^keyset must be a Keyset/);
	});

	describe('restore and revoke', () => {
		const notDids: [string, (session: unknown) => unknown, RegExp][] = [
			['a handle', () => 'alice.test', /expects a DID \(did:plc:… or did:web:…\), got "alice\.test"$/],
			['the OAuthSession', (session) => session, /got OAuthSession \(pass session\.did\)$/],
			['{ did }', () => ({ did: alice.did }), /got object \(pass session\.did\)$/],
			['nothing', () => undefined, /got undefined$/],
		];
		it.each(notDids)('refuse %s with a TypeError, and the session stays', async (_, argument, message) => {
			const { client, sessions } = await createTestClient(server);
			const { session } = await signIn(server, client, alice.did);
			await expect(client.revoke(loose(argument(session)))).rejects.toThrow(message);
			await expect(client.restore(loose(argument(session)))).rejects.toThrow(message);
			expect(
				(await client.revoke(loose(argument(session))).catch((err: unknown) => err)) as Error,
			).toBeInstanceOf(TypeError);
			expect(sessions.map.has(alice.did)).toBe(true);
			expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
		});

		it('keep looking a malformed DID up as before: not found, and nothing to revoke', async () => {
			const { client } = await createTestClient(server);
			await expect(client.restore(loose('did:plc:NOT-CANONICAL'))).rejects.toBeInstanceOf(
				SessionNotFoundError,
			);
			await expect(client.revoke(loose('did:plc:NOT-CANONICAL'))).resolves.toBeUndefined();
		});

		it('restore refuses a refresh that is not true, false or "auto", refreshing nothing', async () => {
			const { client } = await createTestClient(server);
			await signIn(server, client, alice.did);
			for (const [refresh, got] of [
				['true', '"true"'],
				[1, 'number'],
			] as const) {
				await expect(client.restore(alice.did, { refresh: loose(refresh) })).rejects.toThrow(
					`refresh must be true, false or 'auto', got ${got}`,
				);
			}
			await expect(client.restore(alice.did, loose(null))).rejects.toThrow(/expects an object/);
			expect(server.stats.token.refresh_token ?? 0).toBe(0);
			await client.restore(alice.did, { refresh: true });
			expect(server.stats.token.refresh_token).toBe(1);
		});

		it('restore refuses an option it does not know, refreshing nothing', async () => {
			const { client } = await createTestClient(server);
			await signIn(server, client, alice.did);
			// another method's option (restore takes no signal), and a misspelt one
			await expect(client.restore(alice.did, loose({ signal: AbortSignal.timeout(1000) }))).rejects.toThrow(
				'restore(did, options) has no option "signal" (it takes refresh)',
			);
			await expect(client.restore(alice.did, loose({ refesh: true }))).rejects.toThrow(
				/has no option "refesh"/,
			);
			expect(server.stats.token.refresh_token ?? 0).toBe(0);
		});
	});

	describe('callback', () => {
		const start = async () => {
			const test = await createTestClient(server);
			const { url } = await test.client.authorize({
				target: { type: 'account', identifier: 'alice.test' },
				state: { returnTo: '/x' },
			});
			return { ...test, params: await server.authorize(url, { did: alice.did }) };
		};

		it('takes the redirect URL itself', async () => {
			const { client, params } = await start();
			const { session } = await client.callback(new URL(`https://app.example.com/oauth/callback?${params}`));
			expect(session.did).toBe(alice.did);
		});

		it("takes another realm's or a polyfill's query and URL: anything with get and getAll", async () => {
			// what a polyfill (whatwg-url, as jsdom has) gives: not this realm's class
			class PolyfillQuery {
				readonly #params: URLSearchParams;
				constructor(params: URLSearchParams) {
					this.#params = params;
				}
				get(name: string) {
					return this.#params.get(name);
				}
				getAll(name: string) {
					return this.#params.getAll(name);
				}
			}
			const first = await start();
			const query = new PolyfillQuery(first.params);
			expect((await first.client.callback(loose(query))).session.did).toBe(alice.did);
			const second = await start();
			const url = {
				href: 'https://app.example.com/oauth/callback',
				searchParams: new PolyfillQuery(second.params),
			};
			expect((await second.client.callback(loose(url))).session.did).toBe(alice.did);
		});

		it('refuses a query string, a parsed query object or nothing without spending the state', async () => {
			const { client, params, states } = await start();
			for (const [input, kind] of [
				[params.toString(), 'string'],
				[Object.fromEntries(params), 'object'],
				[undefined, 'undefined'],
			] as const) {
				const error = await client.callback(loose(input)).catch((err: unknown) => err);
				expect(error).toBeInstanceOf(TypeError);
				expect((error as Error).message).toBe(
					`callback(params) expects URLSearchParams (for example new URL(req.url, origin).searchParams), got ${kind}`,
				);
			}
			expect(states.map.has(params.get('state')!)).toBe(true);
			expect(server.stats.token.authorization_code ?? 0).toBe(0);
			expect((await client.callback(params)).session.did).toBe(alice.did);
		});

		it('refuses an empty error as a malformed callback, not an error named ""', async () => {
			const { client, params } = await start();
			params.set('error', '');
			const error = await client.callback(params).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(OAuthCallbackError);
			expect(error).toMatchObject({ error: 'invalid_request', state: { returnTo: '/x' } });
			expect((error as Error).message).toBe('invalid_request: the callback has an empty error parameter');
			expect(server.stats.token.authorization_code ?? 0).toBe(0);
		});

		it('refuses a callback that repeats error before taking the state', async () => {
			const { client, params, states } = await start();
			const repeated = new URLSearchParams(params);
			repeated.append('error', 'access_denied');
			repeated.append('error', 'server_error');
			const error = await client.callback(repeated).catch((err: unknown) => err);
			expect(error).toMatchObject({ error: 'duplicate_parameter' });
			expect((error as Error).message).toContain('error');
			expect(states.map.has(params.get('state')!)).toBe(true);
		});
	});

	describe('authorize', () => {
		it('refuses a pds target without a serviceUrl string, naming target.serviceUrl', async () => {
			const { client } = await createTestClient(server);
			for (const [serviceUrl, kind] of [
				[undefined, 'undefined'],
				[42, 'number'],
			] as const) {
				await expect(client.authorize({ target: loose({ type: 'pds', serviceUrl }) })).rejects.toThrow(
					`target.serviceUrl must be a URL such as "https://bsky.social", got ${kind}`,
				);
			}
			// a URL object works as its string does, and so does another realm's (an object with href)
			const { url } = await client.authorize({
				target: { type: 'pds', serviceUrl: loose(new URL(server.pdsUrl)) },
			});
			expect(url.searchParams.get('request_uri')).toBeTruthy();
			const polyfill = { href: new URL(server.pdsUrl).href, toString: () => new URL(server.pdsUrl).href };
			const other = await client.authorize({ target: { type: 'pds', serviceUrl: loose(polyfill) } });
			expect(other.url.searchParams.get('request_uri')).toBeTruthy();
		});

		it('refuses the other malformed targets and options', async () => {
			const { client } = await createTestClient(server);
			await expect(client.authorize(loose(undefined))).rejects.toThrow(
				'authorize(options) expects an object such as { target }, got undefined',
			);
			await expect(
				client.authorize({ target: loose({ type: 'handle', identifier: 'alice.test' }) }),
			).rejects.toThrow(/^target must be/);
			await expect(client.authorize({ target: loose({ type: 'account' }) })).rejects.toThrow(
				/target\.identifier must be/,
			);
		});

		it('refuses an option it does not know, before anything is sent', async () => {
			const { client } = await createTestClient(server);
			const target = { type: 'account', identifier: 'alice.test' } as const;
			// a misspelt redirectUri would otherwise send the visitor back to the first one
			await expect(
				client.authorize(loose({ target, redirectURI: 'http://127.0.0.1/other' })),
			).rejects.toThrow(
				'authorize(options) has no option "redirectURI" (it takes target, state, scope, redirectUri, prompt, signal)',
			);
			// an OAuth parameter's own name is not an option either
			await expect(client.authorize(loose({ target, login_hint: 'bob.test' }))).rejects.toThrow(
				/has no option "login_hint"/,
			);
			expect(server.stats.par ?? 0).toBe(0);
			// every option it does take, given as undefined, is taken
			const { url } = await client.authorize({
				target,
				state: undefined,
				scope: undefined,
				redirectUri: undefined,
				prompt: undefined,
				signal: undefined,
			});
			expect(url.searchParams.get('request_uri')).toBeTruthy();
		});

		it('refuses a signal that is the controller, with the hint', async () => {
			const { client } = await createTestClient(server);
			for (const [signal, kind] of [
				[new AbortController(), 'AbortController'],
				['x', 'string'],
			] as const) {
				await expect(
					client.authorize({ target: { type: 'account', identifier: 'alice.test' }, signal: loose(signal) }),
				).rejects.toThrow(`signal must be an AbortSignal (pass controller.signal), got ${kind}`);
			}
			expect(server.stats.par ?? 0).toBe(0);
		});
	});
});
