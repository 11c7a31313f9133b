import { createSocket } from 'node:dgram';
import { getEventListeners } from 'node:events';
import type { AddressInfo } from 'node:net';

import {
	AmbiguousHandleError,
	CompositeHandleResolver,
	DidNotFoundError,
	FailedHandleResolutionError,
	type HandleResolver,
	InvalidResolvedHandleError,
	LocalActorResolver,
	PlcDidDocumentResolver,
	WellKnownHandleResolver,
} from '@atcute/identity-resolver';
import { NodeDnsHandleResolver } from '@atcute/identity-resolver-node';
import type { Handle } from '@atcute/lexicons';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	createCompositeHandleResolver,
	createNodeFetch,
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

/** how the loopback DNS server answers a TXT query: no record, no such name, a failure, a record. */
type DnsAnswer = 'no-record' | 'no-such-name' | 'server-failure' | { txt: string | string[] };

/**
 * a DNS server on a loopback port, answering every TXT query as `answer` says: NOERROR with no
 * record (what a zone with a wildcard record, such as a PDS's `*.<host>`, answers), NXDOMAIN,
 * SERVFAIL, or TXT records (one or several).
 */
const startDnsServer = async () => {
	const state = { answer: 'no-record' as DnsAnswer };
	const socket = createSocket('udp4');
	socket.on('message', (query, from) => {
		// the header and the question, as asked: the name's labels end with a zero byte, then its
		// type and class
		let end = 12;
		while (query[end] !== 0) end += query[end]! + 1;
		const question = query.subarray(0, end + 5);
		const { answer } = state;
		const rcode = answer === 'no-such-name' ? 3 : answer === 'server-failure' ? 2 : 0;
		const records: Buffer[] = [];
		const texts = typeof answer === 'object' ? [answer.txt].flat() : [];
		for (const txt of texts) {
			const text = Buffer.from(txt);
			const rdata = Buffer.concat([Buffer.from([text.length]), text]);
			const record = Buffer.from([0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 0, 0]);
			record.writeUInt16BE(rdata.length, 10);
			records.push(record, rdata);
		}
		const response = Buffer.concat([question, ...records]);
		// a response (QR), recursion desired as asked, recursion available, the code
		response[2] = 0x80 | (query[2]! & 0x01);
		response[3] = 0x80 | rcode;
		response.writeUInt16BE(texts.length, 6);
		response.writeUInt16BE(0, 8);
		response.writeUInt16BE(0, 10);
		socket.send(response, from.port, from.address);
	});
	await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
	const nameserver = `127.0.0.1:${(socket.address() as AddressInfo).port}`;
	return { state, nameserver, close: () => new Promise<void>((resolve) => socket.close(resolve)) };
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

	describe('with NodeDnsHandleResolver on a DNS server', () => {
		let dns: Awaited<ReturnType<typeof startDnsServer>>;
		beforeAll(async () => {
			dns = await startDnsServer();
		});
		afterAll(() => dns.close());

		/** what `authorize()` throws (or `resolve()` gives) with the DNS answering `answer`. */
		const withDns = (answer: DnsAnswer, http: HandleResolver) => {
			dns.state.answer = answer;
			return createCompositeHandleResolver({
				dns: new NodeDnsHandleResolver({ nameservers: [dns.nameserver] }),
				http,
			});
		};

		it('finds the DID a TXT record names', async () => {
			expect(await withDns({ txt: `did=${DID}` }, wellKnown(200, 503)).resolve(HANDLE)).toBe(DID);
		});

		it.each([
			['no TXT record for the name (a zone with a wildcard record)', 'no-record'],
			['no such name', 'no-such-name'],
		] as const)('reads %s, and a 404 from the host, as an unknown handle', async (_name, answer) => {
			const error = await authorizeError(withDns(answer, wellKnown(5, 404)));
			expect(error).toMatchObject({ reason: 'not_found', transient: false });
		});

		it('reads a DNS server failure, and a 404 from the host, as an outage', async () => {
			const error = await authorizeError(withDns('server-failure', wellKnown(5, 404)));
			expect(error).toMatchObject({ reason: 'unavailable', transient: true });
		});

		it('says what DNS named when both methods answered: several DIDs, or no DID', async () => {
			const other = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
			const several = await authorizeError(
				withDns({ txt: [`did=${DID}`, `did=${other}`] }, wellKnown(5, 404)),
			);
			expect(several).toMatchObject({ reason: 'not_found', transient: false });
			expect((several as Error).message).toMatch(/more than one DID/);
			const invalid = await authorizeError(withDns({ txt: 'did=did:plc:NOPE' }, wellKnown(5, 404)));
			expect(invalid).toMatchObject({ reason: 'not_found', transient: false });
			expect((invalid as Error).message).toMatch(/did:plc:NOPE.*no atproto DID/);
			// what a record holds is anyone's text: escaped, so a logged error stays one line as shown
			const hostile = () => new InvalidResolvedHandleError(HANDLE, 'did:x\u202e\n');
			const escaped = await authorizeError(
				createCompositeHandleResolver({ dns: method(5, hostile).resolver, http: wellKnown(5, 404) }),
			);
			expect((escaped as Error).message).toContain('"did:x\\u202e\\n"');
			// no record: neither has one, as before
			const none = await authorizeError(withDns('no-record', wellKnown(5, 404)));
			expect((none as Error).message).toMatch(/neither DNS nor the well-known method has a DID/);
		});

		it('reads no TXT record, and the host down (503), as an outage', async () => {
			const error = await authorizeError(withDns('no-record', wellKnown(5, 503)));
			expect(error).toMatchObject({ reason: 'unavailable', transient: true });
		});
	});

	it('reads every answer error of the resolvers as an answer, even as a cause', async () => {
		// a DID that is not one, and the host down: an outage, as "no record" with the host down is
		const invalid = () => new InvalidResolvedHandleError(HANDLE, 'did:nope');
		expect(
			await authorizeError(
				createCompositeHandleResolver({ dns: method(5, invalid).resolver, http: wellKnown(30, 503) }),
			),
		).toMatchObject({ reason: 'unavailable', transient: true });
		// an answer wrapped in an error of the method's own, and a 404: the handle is unknown
		const wrapped = () => new FailedHandleResolutionError(HANDLE, { cause: new DidNotFoundError(HANDLE) });
		expect(
			await authorizeError(
				createCompositeHandleResolver({ dns: method(5, wrapped).resolver, http: wellKnown(30, 404) }),
			),
		).toMatchObject({ reason: 'not_found', transient: false });
		// the well-known method refused on purpose (the guard: the host is on a private address): its
		// own refusal, which names the host, even wrapped in an error of the method's
		const refusal = new IdentityResolutionError(HANDLE, { reason: 'refused', detail: 'a private address' });
		for (const refused of [
			() => refusal,
			() => new FailedHandleResolutionError(HANDLE, { cause: refusal }),
		]) {
			const resolver = createCompositeHandleResolver({
				dns: method(5, noRecord).resolver,
				http: method(30, refused).resolver,
			});
			expect(await resolver.resolve(HANDLE).catch((e) => e)).toBe(refusal);
			expect(await authorizeError(resolver)).toMatchObject({ reason: 'refused', transient: false });
		}
	});

	it("reads @atcute/identity-resolver's well-known method under the guard: its refusal stays one, its host's 4xx an answer", async () => {
		// every lookup sent to 127.0.0.1 through the Node transport, whose guard refuses it
		const guarded = createNodeFetch();
		const toLoopback = ((_input: RequestInfo | URL, init?: RequestInit) =>
			guarded('https://127.0.0.1/.well-known/atproto-did', init)) as typeof fetch;
		const refused = await authorizeError(
			createCompositeHandleResolver({
				dns: method(5, noRecord).resolver,
				http: new WellKnownHandleResolver({ fetch: toLoopback }),
			}),
		);
		expect(refused).toMatchObject({ reason: 'refused', transient: false });
		// the guard's own error is still there, down the cause chain
		let cause: unknown = refused;
		while (cause instanceof Error && cause.name !== 'PrivateNetworkError') cause = cause.cause;
		expect(cause).toMatchObject({ name: 'PrivateNetworkError', host: '127.0.0.1' });

		// the handle's host answering 410 has answered: with no record either, the handle is unknown
		const gone = (async () => new Response('gone', { status: 410 })) as typeof fetch;
		expect(
			await authorizeError(
				createCompositeHandleResolver({
					dns: method(5, noRecord).resolver,
					http: new WellKnownHandleResolver({ fetch: gone }),
				}),
			),
		).toMatchObject({ reason: 'not_found', transient: false });
	});

	it('throws not_found with the DNS answer as its cause when both methods answered', async () => {
		const answer = new DidNotFoundError(HANDLE);
		const resolver = createCompositeHandleResolver({
			dns: method(5, () => answer).resolver,
			http: wellKnown(30, 404),
		});
		const error = await resolver.resolve(HANDLE).catch((e) => e);
		expect(error).toBeInstanceOf(IdentityResolutionError);
		expect(error).toMatchObject({ reason: 'not_found', transient: false });
		expect(error.cause).toBe(answer);
	});

	it('says unavailable, the failure as its cause, for a method that could not ask, whatever the client would read in it', async () => {
		// a DNS over HTTPS resolver's own 4xx, which the client on its own reads as a missing handle
		const dohRefusal = Object.assign(new Error('the DNS over HTTPS server answered 400'), {
			name: 'FailedResponseError',
			status: 400,
		});
		const resolver = createCompositeHandleResolver({
			dns: method(5, () => dohRefusal).resolver,
			http: wellKnown(30, 503),
		});
		const error = await resolver.resolve(HANDLE).catch((e) => e);
		expect(error).toMatchObject({ reason: 'unavailable', transient: true });
		expect(error.cause).toBe(dohRefusal);
		expect(await authorizeError(resolver)).toMatchObject({ reason: 'unavailable', transient: true });

		// the well-known method's name lookup failing is its own to read (a proxy's name, say): not
		// DNS's answer about the handle
		const lookupFailed = () =>
			new TypeError('fetch failed', {
				cause: Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }),
			});
		expect(
			await authorizeError(
				createCompositeHandleResolver({
					dns: method(5, noRecord).resolver,
					http: method(30, lookupFailed).resolver,
				}),
			),
		).toMatchObject({ reason: 'unavailable', transient: true });
	});

	it("rejects with the caller's reason at once, though a method does not heed the signal, and leaves no listener", async () => {
		// a DNS query runs to its end whatever the signal says
		const deaf: HandleResolver = { resolve: () => new Promise(() => {}) };
		const resolver = createCompositeHandleResolver({ dns: deaf, http: deaf });
		const reason = new Error('the visitor left');
		const controller = new AbortController();
		const resolving = resolver.resolve(HANDLE, { signal: controller.signal });
		setTimeout(() => controller.abort(reason), 10);
		await expect(resolving).rejects.toBe(reason);

		// a long-lived signal (the app's own, for its whole life) keeps no listener of a call that ended
		const lasting = new AbortController();
		const found = createCompositeHandleResolver({
			dns: method(1, DID).resolver,
			http: method(20, noRecord).resolver,
		});
		for (let i = 0; i < 3; i++) await found.resolve(HANDLE, { signal: lasting.signal });
		expect(getEventListeners(lasting.signal, 'abort')).toHaveLength(0);
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
