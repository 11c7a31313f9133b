import {
	AmbiguousHandleError,
	CompositeHandleResolver,
	DidNotFoundError,
	FailedHandleResolutionError,
	type HandleResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
} from '@atcute/identity-resolver';
import type { Handle } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import {
	createCompositeHandleResolver,
	createWellKnownHandleResolver,
	generatePrivateKey,
	IdentityResolutionError,
	MemoryStore,
	OAuthClient,
} from './index.ts';

const HANDLE = 'alice.example.com' as Handle;
const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

const sleep = (ms: number, signal?: AbortSignal) =>
	new Promise<void>((resolve, reject) => {
		const timer = setTimeout(resolve, ms);
		signal?.addEventListener('abort', () => {
			clearTimeout(timer);
			reject(signal.reason);
		});
	});

/** a method that answers after `ms`: the DID, or the error it throws; counts the calls it ends. */
const method = (ms: number, answer: string | (() => Error)) => {
	const seen = { aborted: 0 };
	const resolver: HandleResolver = {
		resolve: async (_handle, options) => {
			try {
				await sleep(ms, options?.signal);
			} catch (err) {
				seen.aborted++;
				throw err;
			}
			if (typeof answer === 'string') return answer as never;
			throw answer();
		},
	};
	return { resolver, seen };
};

/** the well-known method, its host answering `status` after `ms` (a 503: down for a moment). */
const wellKnown = (ms: number, status: number) =>
	createWellKnownHandleResolver({
		fetch: (async () => {
			await sleep(ms);
			return new Response('busy', { status });
		}) as typeof fetch,
	});

const noRecord = () => new DidNotFoundError(HANDLE);
const dnsDown = () => new FailedHandleResolutionError(HANDLE, { cause: new Error('queryTxt ESERVFAIL') });

/** what `authorize()` throws for `HANDLE` with `handleResolver`. */
const authorizeError = async (handleResolver: HandleResolver) => {
	const oauth = new OAuthClient({
		metadata: {
			client_id: 'https://app.example.com/oauth-client-metadata.json',
			redirect_uris: ['https://app.example.com/oauth/callback'],
			scope: ['atproto'],
		},
		keyset: [await generatePrivateKey('main')],
		stores: { sessions: new MemoryStore(), states: new MemoryStore() },
		actorResolver: new LocalActorResolver({
			handleResolver,
			didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: 'https://plc.invalid' }),
		}),
	});
	return oauth.authorize({ target: { type: 'account', identifier: HANDLE } }).then(
		() => expect.unreachable('authorize() resolved'),
		(err: unknown) => err,
	);
};

describe('createCompositeHandleResolver', () => {
	it('takes the first DID either method finds, and stops the other', async () => {
		const dns = method(50, noRecord);
		const http = method(5, DID);
		const resolver = createCompositeHandleResolver({ dns: dns.resolver, http: http.resolver });
		expect(await resolver.resolve(HANDLE)).toBe(DID);
		await sleep(1);
		expect(dns.seen.aborted).toBe(1);

		const fast = createCompositeHandleResolver({
			dns: method(5, DID).resolver,
			http: method(50, noRecord).resolver,
		});
		expect(await fast.resolve(HANDLE)).toBe(DID);
	});

	it('finds the DID by the slower method when the faster has no record', async () => {
		const resolver = createCompositeHandleResolver({
			dns: method(5, noRecord).resolver,
			http: method(20, DID).resolver,
		});
		expect(await resolver.resolve(HANDLE)).toBe(DID);
	});

	// the handle is published by one method alone, and the other cannot be asked for now: whichever
	// answers first, that is an outage, not an unknown handle
	describe.each([
		[
			'the web host down (503), DNS with no record',
			() => method(5, noRecord).resolver,
			() => wellKnown(30, 503),
		],
		[
			'the web host down (503) first, DNS with no record after',
			() => method(30, noRecord).resolver,
			() => wellKnown(5, 503),
		],
		[
			'DNS down first, the web host answering 404 after',
			() => method(5, dnsDown).resolver,
			() => wellKnown(30, 404),
		],
		[
			'DNS down, the web host answering 404 first',
			() => method(30, dnsDown).resolver,
			() => wellKnown(5, 404),
		],
	])('%s', (_name, dns, http) => {
		it('is reported as unavailable (transient), not as an unknown handle', async () => {
			const error = await authorizeError(createCompositeHandleResolver({ dns: dns(), http: http() }));
			expect(error).toBeInstanceOf(IdentityResolutionError);
			expect(error).toMatchObject({ reason: 'unavailable', transient: true });
		});
	});

	it('reads as the unknown handle it is when both methods answer so, whichever answers last', async () => {
		for (const [dnsMs, httpMs] of [
			[5, 30],
			[30, 5],
		] as const) {
			const error = await authorizeError(
				createCompositeHandleResolver({
					dns: method(dnsMs, noRecord).resolver,
					http: wellKnown(httpMs, 404),
				}),
			);
			expect(error).toMatchObject({ reason: 'not_found', transient: false });
		}
		const ambiguous = await authorizeError(
			createCompositeHandleResolver({
				dns: method(5, () => new AmbiguousHandleError(HANDLE)).resolver,
				http: wellKnown(30, 404),
			}),
		);
		expect(ambiguous).toMatchObject({ reason: 'not_found', transient: false });
	});

	it("reads a method's own IdentityResolutionError as its answer, and the other's outage wins", async () => {
		// a resolver of the app's own in the DNS slot (DNS over HTTPS, say) that says "no record" so
		const noSuchRecord = () =>
			new IdentityResolutionError(HANDLE, { reason: 'not_found', detail: 'no TXT record' });
		const error = await authorizeError(
			createCompositeHandleResolver({ dns: method(5, noSuchRecord).resolver, http: wellKnown(30, 503) }),
		);
		expect(error).toMatchObject({ reason: 'unavailable', transient: true });
	});

	it("differs from CompositeHandleResolver's race, which reports the method that failed last", async () => {
		// the case above, through the race: the web host's 503 came first, DNS's "no record" last
		const error = await authorizeError(
			new CompositeHandleResolver({
				methods: { dns: method(30, noRecord).resolver, http: wellKnown(5, 503) },
			}),
		);
		expect(error).toMatchObject({ reason: 'not_found', transient: false });
	});

	it("throws the caller's abort reason, and stops both methods", async () => {
		const dns = method(1_000, DID);
		const http = method(1_000, DID);
		const resolver = createCompositeHandleResolver({ dns: dns.resolver, http: http.resolver });
		const reason = new Error('the visitor left');
		const controller = new AbortController();
		const resolving = resolver.resolve(HANDLE, { signal: controller.signal });
		setTimeout(() => controller.abort(reason), 10);
		await expect(resolving).rejects.toBe(reason);
		expect([dns.seen.aborted, http.seen.aborted]).toEqual([1, 1]);
		await expect(resolver.resolve(HANDLE, { signal: controller.signal })).rejects.toBe(reason);
	});

	it("throws the caller's abort reason when the methods wrap it in errors of their own", async () => {
		// as NodeDnsHandleResolver does: its own error, the abort as its cause
		const wrapping: HandleResolver = {
			resolve: async (_handle, options) => {
				try {
					await sleep(1_000, options?.signal);
				} catch (cause) {
					throw new FailedHandleResolutionError(HANDLE, { cause });
				}
				return DID;
			},
		};
		const resolver = createCompositeHandleResolver({ dns: wrapping, http: wrapping });
		const reason = new Error('the visitor left');
		const controller = new AbortController();
		setTimeout(() => controller.abort(reason), 10);
		await expect(resolver.resolve(HANDLE, { signal: controller.signal })).rejects.toBe(reason);
	});

	it('refuses options that are not two handle resolvers, naming the one at fault', () => {
		const good = method(1, DID).resolver;
		expect(() => createCompositeHandleResolver(undefined as never)).toThrow(/options must be an object/);
		expect(() => createCompositeHandleResolver({ dns: good } as never)).toThrow(
			/http must be a handle resolver/,
		);
		expect(() => createCompositeHandleResolver({ dns: {} as never, http: good })).toThrow(
			/dns must be a handle resolver/,
		);
	});
});
