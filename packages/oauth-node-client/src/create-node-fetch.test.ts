import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { DiscoveryError, fetchJsonDocument } from '@atcute/oauth-discovery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { PrivateNetworkError } from './private-network-error.ts';
import {
	createTestTls,
	type LoopbackServer,
	startConnectProxy,
	startHttpServer,
	startHttpsServer,
	type TestTls,
} from './test-utils/loopback-servers.ts';

const runFile = promisify(execFile);
const CHILD = fileURLToPath(new URL('./test-utils/node-fetch-child.mjs', import.meta.url));
const json = { 'content-type': 'application/json' };
// 16 MB of zeros and 40 KB of noise, gzipped twice: the decoders hold most of it back unread
const stackedLarge = gzipSync(
	gzipSync(Buffer.concat([Buffer.alloc(16 * 1024 * 1024), randomBytes(40 * 1024)])),
	{ level: 1 },
);

// every request here goes to loopback, so the guard must let these through
const local = createNodeFetch({ allowPrivateNetwork: true });

describe('createNodeFetch: a standard Response', () => {
	let server: LoopbackServer;
	let releaseHeld = () => {};
	const heldReleased = new Promise<void>((resolve) => {
		releaseHeld = resolve;
	});
	let firstHalfReadNow = () => {};
	const firstHalfRead = new Promise<void>((resolve) => {
		firstHalfReadNow = resolve;
	});
	beforeAll(async () => {
		server = await startHttpServer((request, response, body) => {
			if (request.url === '/json') {
				response.writeHead(200, { ...json, 'x-multi': ['a', 'b'], 'dpop-nonce': 'n1' });
				response.end(JSON.stringify({ ok: true }));
			} else if (request.url === '/echo') {
				response
					.writeHead(201, json)
					.end(
						JSON.stringify({ method: request.method, type: request.headers['content-type'] ?? null, body }),
					);
			} else if (request.url === '/slow') {
				// the first half now, the second only once the test has read the first: a transport
				// that waited for the whole body would never hand the first half out
				response.writeHead(200, { 'content-type': 'text/plain' });
				response.write('first ');
				firstHalfRead.then(() => response.end('second'));
			} else if (request.url === '/to-held') {
				response.writeHead(302, { location: '/held' }).end();
			} else if (request.url === '/held') {
				// a body still arriving when the response is handed out, until the test lets it end
				response.writeHead(200, { 'content-type': 'text/plain' });
				response.write('held ');
				heldReleased.then(() => response.end('body'));
			} else if (request.url === '/stacked') {
				// gzip applied first, then br: br comes off first
				response.writeHead(200, { 'content-encoding': 'gzip, br', 'content-type': 'text/plain' });
				response.end(brotliCompressSync(gzipSync('stacked')));
			} else if (request.url === '/stacked-large') {
				// many chunks in one write, so that the whole body arrives before it is read
				response.writeHead(200, { 'content-encoding': 'gzip, gzip', 'content-type': 'text/plain' });
				response.cork();
				for (let i = 0; i < stackedLarge.length; i += 2048)
					response.write(stackedLarge.subarray(i, i + 2048));
				// ended after the uncork: Node 22.23 sends a corked response ended before its uncork with
				// the chunked terminator after its first chunk, and the rest after the response (20 and
				// 24 do not), so any client then drops the connection
				process.nextTick(() => {
					response.uncork();
					response.end();
				});
			} else if (request.url === '/stacked-headers') {
				// the same list in two headers, with deflate as well
				response.setHeader('content-encoding', ['deflate', 'gzip']);
				response.writeHead(200, { 'content-type': 'text/plain' });
				response.write(gzipSync(deflateSync('two headers')).subarray(0, 10));
				setImmediate(() => response.end(gzipSync(deflateSync('two headers')).subarray(10)));
			} else if (request.url === '/unknown-coding') {
				response.writeHead(200, { 'content-encoding': 'gzip, zstd', 'content-type': 'text/plain' });
				response.end('left as it came');
			} else if (request.url === '/gzip') {
				response.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
				response.end(gzipSync('squeezed'));
			} else if (request.url === '/empty') {
				response.writeHead(204).end();
			} else {
				response.writeHead(404).end();
			}
		});
	});
	afterAll(() => server.close());

	it('gives status, headers and a JSON body, and clone() reads the same body twice', async () => {
		const response = await local(`${server.origin}/json`);

		expect(response).toBeInstanceOf(Response);
		expect(response.status).toBe(200);
		expect(response.ok).toBe(true);
		expect(response.url).toBe(`${server.origin}/json`);
		expect(response.headers.get('dpop-nonce')).toBe('n1');
		expect(response.headers.get('x-multi')).toBe('a, b');
		const copy = response.clone();
		expect(await response.json()).toEqual({ ok: true });
		expect(await copy.text()).toBe('{"ok":true}');
	});

	it('streams the body as it arrives', async () => {
		const response = await local(`${server.origin}/slow`);
		const reader = response.body!.getReader();

		const first = await reader.read();
		expect(new TextDecoder().decode(first.value)).toBe('first ');
		firstHalfReadNow();
		let rest = '';
		for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
			rest += new TextDecoder().decode(chunk.value);
		}
		expect(rest).toBe('second');
	});

	it('keeps url and redirected in clones of a response whose body is still arriving', async () => {
		const response = await local(`${server.origin}/to-held`);
		const copy = response.clone();
		const copyOfCopy = copy.clone();
		for (const each of [response, copy, copyOfCopy]) {
			expect(each.url).toBe(`${server.origin}/held`);
			expect(each.redirected).toBe(true);
		}
		releaseHeld();
		expect(await copyOfCopy.text()).toBe('held body');
		expect(await response.text()).toBe('held body');
	});

	it('sends string, form, byte and stream bodies with the content types fetch gives them', async () => {
		const send = async (body: BodyInit, headers?: HeadersInit) =>
			(
				await local(`${server.origin}/echo`, {
					method: 'post',
					body,
					...(headers ? { headers } : {}),
					duplex: 'half',
				} as RequestInit)
			).json();

		expect(await send('text')).toEqual({ method: 'POST', type: 'text/plain;charset=UTF-8', body: 'text' });
		expect(await send(new URLSearchParams({ a: '1', b: 'x y' }))).toEqual({
			method: 'POST',
			type: 'application/x-www-form-urlencoded;charset=UTF-8',
			body: 'a=1&b=x+y',
		});
		expect(
			await send(new TextEncoder().encode('bytes'), { 'Content-Type': 'application/octet-stream' }),
		).toEqual({
			method: 'POST',
			type: 'application/octet-stream',
			body: 'bytes',
		});
		const stream = new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode('str'));
				controller.enqueue(new TextEncoder().encode('eamed'));
				controller.close();
			},
		});
		expect(await send(stream)).toEqual({ method: 'POST', type: null, body: 'streamed' });
	});

	it('reads Blob and FormData bodies before sending them, with their content types', async () => {
		const send = async (body: BodyInit) =>
			(await local(`${server.origin}/echo`, { method: 'POST', body })).json() as Promise<{
				type: string | null;
				body: string;
			}>;

		expect(await send(new Blob(['blob'], { type: 'text/x-blob' }))).toEqual({
			method: 'POST',
			type: 'text/x-blob',
			body: 'blob',
		});
		expect(await send(new TextEncoder().encode('buffer').buffer)).toEqual({
			method: 'POST',
			type: null,
			body: 'buffer',
		});
		const form = new FormData();
		form.set('field', 'value');
		const multipart = await send(form);
		expect(multipart.type).toMatch(/^multipart\/form-data; boundary=/);
		expect(multipart.body).toContain('name="field"');
		expect(multipart.body).toContain('value');
	});

	it('refuses a GET with a body and a URL with credentials, as fetch does', async () => {
		await expect(local(`${server.origin}/echo`, { body: 'x' })).rejects.toThrow(TypeError);
		const withCredentials = `${server.origin.replace('://', '://user:pass@')}/echo`;
		await expect(local(withCredentials)).rejects.toThrow(/credentials/);
	});

	it('takes a Request as input', async () => {
		const request = new Request(`${server.origin}/echo`, {
			method: 'PUT',
			body: 'r',
			headers: { 'content-type': 'text/x' },
		});
		expect(await (await local(request)).json()).toEqual({ method: 'PUT', type: 'text/x', body: 'r' });
	});

	it('decodes a body in several codings, listed in one header or two, and leaves one fetch cannot decode', async () => {
		expect(await (await local(`${server.origin}/stacked`)).text()).toBe('stacked');
		expect(await (await local(`${server.origin}/stacked-headers`)).text()).toBe('two headers');
		expect(await (await local(`${server.origin}/unknown-coding`)).text()).toBe('left as it came');
		expect(await (await fetch(`${server.origin}/stacked`)).text()).toBe('stacked');
	});

	it('frees the connection of a body in several codings cancelled after it all arrived', async () => {
		// a pool of its own: the one connection it opens is the one a next request can reuse
		const own = createNodeFetch({ allowPrivateNetwork: true });
		const connections = server.connections;
		const response = await own(`${server.origin}/stacked-large`);
		const reader = response.body!.getReader();
		await reader.read();
		// the rest has arrived meanwhile, most of it still undecoded
		await new Promise((resolve) => setTimeout(resolve, 300));
		// settles once the connection is free again: a body left paused never would
		await reader.cancel();
		// back in the pool, not closed: the next request goes over it
		expect(await (await own(`${server.origin}/json`)).text()).toBeTruthy();
		expect(server.connections).toBe(connections + 1);
	});

	it('decodes gzip as fetch does, and gives a 204 a null body', async () => {
		expect(await (await local(`${server.origin}/gzip`)).text()).toBe('squeezed');
		const empty = await local(`${server.origin}/empty`);
		expect(empty.status).toBe(204);
		expect(empty.body).toBeNull();
	});

	it('keeps the connection alive and reuses it', async () => {
		const before = server.connections;
		for (let i = 0; i < 5; i++) await (await local(`${server.origin}/json`)).text();
		expect(server.connections - before).toBeLessThanOrEqual(1);
	});
});

describe('createNodeFetch: signals, redirects and stale connections', () => {
	let server: LoopbackServer;
	let other: LoopbackServer;
	const perSocket = new WeakMap<object, number>();
	beforeAll(async () => {
		other = await startHttpServer((request, response) => {
			const { authorization, cookie, 'proxy-authorization': proxyAuthorization } = request.headers;
			response.writeHead(200, json).end(
				JSON.stringify({
					authorization: authorization ?? null,
					cookie: cookie ?? null,
					proxyAuthorization: proxyAuthorization ?? null,
				}),
			);
		});
		server = await startHttpServer((request, response) => {
			const socket = request.socket;
			const count = (perSocket.get(socket) ?? 0) + 1;
			perSocket.set(socket, count);
			if (request.url === '/hang') return;
			if (request.url === '/drip') {
				response.writeHead(200, { 'content-type': 'text/plain' });
				response.write('a');
				return;
			}
			if (request.url === '/redirect') {
				response.writeHead(302, { location: '/target' }).end();
				return;
			}
			if (request.url === '/away') {
				response.writeHead(307, { location: `${other.origin}/` }).end();
				return;
			}
			if (request.url === '/loop') {
				response.writeHead(302, { location: '/loop' }).end();
				return;
			}
			if (request.url === '/moved') {
				response.writeHead(307, { location: '/target' }).end();
				return;
			}
			if (request.url === '/target') {
				response.writeHead(200, json).end(JSON.stringify({ method: request.method }));
				return;
			}
			if (request.url?.startsWith('/second-fails') && count === 2) {
				// the server drops a kept-alive connection just as the next request arrives
				socket.destroy();
				return;
			}
			response.writeHead(200, json).end(JSON.stringify({ count }));
		});
	});
	afterAll(async () => {
		await server.close();
		await other.close();
	});

	it('rejects with the signal reason when aborted before or while waiting for headers', async () => {
		const controller = new AbortController();
		controller.abort(new Error('before'));
		await expect(local(`${server.origin}/json`, { signal: controller.signal })).rejects.toThrow('before');

		const pending = local(`${server.origin}/hang`, { signal: AbortSignal.timeout(50) });
		await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
	});

	it('fails the body reader with the signal reason when aborted mid-body', async () => {
		const controller = new AbortController();
		const response = await local(`${server.origin}/drip`, { signal: controller.signal });
		const reader = response.body!.getReader();
		await reader.read();
		controller.abort(new Error('stop'));
		await expect(reader.read()).rejects.toThrow('stop');
	});

	it("returns a redirect as is under redirect: 'manual', refuses it under 'error', follows it by default", async () => {
		const manual = await local(`${server.origin}/redirect`, { redirect: 'manual' });
		expect(manual.status).toBe(302);
		expect(manual.headers.get('location')).toBe('/target');
		await manual.body?.cancel();

		await expect(local(`${server.origin}/redirect`, { redirect: 'error' })).rejects.toBeInstanceOf(TypeError);

		const followed = await local(`${server.origin}/redirect`, { method: 'POST', body: 'x' });
		expect(followed.url).toBe(`${server.origin}/target`);
		expect(await followed.json()).toEqual({ method: 'GET' });
	});

	it('marks the response of a followed redirect as redirected, as fetch does', async () => {
		const followed = await local(`${server.origin}/redirect`);
		expect(followed.redirected).toBe(true);
		expect(followed.clone().redirected).toBe(true);
		await followed.text();

		const direct = await local(`${server.origin}/target`);
		expect(direct.redirected).toBe(false);
		await direct.text();
		const manual = await local(`${server.origin}/redirect`, { redirect: 'manual' });
		expect(manual.redirected).toBe(false);
		await manual.body?.cancel();
	});

	it('drops the Authorization, Cookie and Proxy-Authorization headers when a redirect leaves the origin', async () => {
		const response = await local(`${server.origin}/away`, {
			headers: {
				authorization: 'DPoP secret',
				cookie: 'sid=secret',
				'proxy-authorization': 'Basic c2VjcmV0',
			},
		});
		expect(await response.json()).toEqual({ authorization: null, cookie: null, proxyAuthorization: null });
	});

	it('follows 20 redirects, as fetch does, and refuses the 21st', async () => {
		const loops = () => server.requests.filter((request) => request.url === '/loop').length;
		const before = loops();
		await expect(local(`${server.origin}/loop`)).rejects.toThrow(/more than 20 redirects/);
		// the first request and the 20 redirects followed: not one more
		expect(loops() - before).toBe(21);
	});

	it('refuses to follow a 307 with a streamed body, which cannot be sent again', async () => {
		const reached = () => server.requests.filter((request) => request.url === '/target').length;
		const before = reached();
		const body = new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode('once'));
				controller.close();
			},
		});
		await expect(
			local(`${server.origin}/moved`, { method: 'POST', body, duplex: 'half' } as RequestInit),
		).rejects.toThrow(/cannot follow a redirect with a streamed body/);
		expect(reached()).toBe(before);
	});

	it('sends a GET again on a fresh connection when the reused one was closed by the server', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		expect(await (await fetch(`${server.origin}/second-fails/a`)).json()).toEqual({ count: 1 });
		const before = server.connections;

		// the second request on that connection is dropped; the retry opens a new one
		expect(await (await fetch(`${server.origin}/second-fails/b`)).json()).toEqual({ count: 1 });
		expect(server.connections - before).toBe(1);
	});

	it('does not send a POST again: it may have reached the server', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		await (await fetch(`${server.origin}/second-fails/a`)).text();
		const seen = server.requests.length;

		const error = await fetch(`${server.origin}/second-fails/post`, { method: 'POST', body: 'once' }).catch(
			(e) => e,
		);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.cause).toMatchObject({ code: 'ECONNRESET' });
		expect(server.requests.length - seen).toBe(1);
	});
});

describe('createNodeFetch: the SSRF guard', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => response.writeHead(200, json).end('{}'));
	});
	afterAll(() => server.close());

	it('refuses a host name that resolves to loopback, at connect time, before anything is sent', async () => {
		const guarded = createNodeFetch();
		const before = server.connections;

		const error = await guarded(`${server.origin}/`).catch((e) => e);

		expect(error).toBeInstanceOf(PrivateNetworkError);
		expect(error).toMatchObject({ code: 'ERR_PRIVATE_NETWORK', host: 'localhost', kind: 'loopback' });
		expect(error.message).toContain('localhost');
		expect(server.connections).toBe(before);
		expect(server.requests).toHaveLength(0);
	});

	it.each([
		['127.0.0.1', 'loopback'],
		['[::1]', 'loopback'],
		['[::ffff:127.0.0.1]', 'loopback'],
		['169.254.169.254', 'link-local'],
		['10.0.0.1', 'private'],
		['[fd00::1]', 'unique-local'],
		['0.0.0.0', 'unspecified'],
	])('refuses the IP literal %s (%s) without connecting', async (host, kind) => {
		const error = await createNodeFetch()(`https://${host}:${server.port}/`).catch((e) => e);
		expect(error).toBeInstanceOf(PrivateNetworkError);
		expect(error.kind).toBe(kind);
	});

	it('is not transient, so discovery reports it as refused and nobody retries it', async () => {
		const error = await fetchJsonDocument(`${server.origin}/.well-known/oauth-protected-resource`, {
			maxBytes: 1024,
			allowHttp: true,
			fetch: createNodeFetch(),
		}).catch((e) => e);

		expect(error).toBeInstanceOf(DiscoveryError);
		expect(error).toMatchObject({ code: 'refused', transient: false });
		expect(error.cause).toBeInstanceOf(PrivateNetworkError);
		expect(error.cause.transient).toBe(false);
	});

	it('lets the listed host names through, and only those', async () => {
		const listed = createNodeFetch({ allowPrivateNetwork: ['LOCALHOST'] });
		expect((await listed(`${server.origin}/`)).status).toBe(200);
		await expect(listed(`http://127.0.0.1:${server.port}/`)).rejects.toBeInstanceOf(PrivateNetworkError);
	});

	it('refuses a redirect to a private address', async () => {
		const hop = await startHttpServer((_request, response) =>
			response.writeHead(302, { location: `http://127.0.0.1:${server.port}/` }).end(),
		);
		try {
			const fetch = createNodeFetch({ allowPrivateNetwork: ['localhost'] });
			await expect(fetch(`${hop.origin}/`)).rejects.toBeInstanceOf(PrivateNetworkError);
		} finally {
			await hop.close();
		}
	});

	it('checks its options', () => {
		expect(() => createNodeFetch({ allowPrivateNetwork: 'yes' as never })).toThrow(/allowPrivateNetwork/);
		expect(() => createNodeFetch({ proxy: 'socks5://127.0.0.1:1080' })).toThrow(/proxy/);
		expect(() => createNodeFetch({ inactivityTimeout: 0 })).toThrow(/inactivityTimeout/);
		expect(() => createNodeFetch({ noProxy: '10.0.0.0/8' })).toThrow(/noProxy/);
	});

	it('refuses a proxy URL whose credentials cannot be decoded, or that is not a URL, without showing it', () => {
		for (const proxy of [
			'http://user:pa%ss@127.0.0.1:3128',
			'http://us%zzer:secret@127.0.0.1:3128',
			'pa%ss not a url',
		]) {
			let error: unknown;
			try {
				createNodeFetch({ proxy });
			} catch (err) {
				error = err;
			}
			expect(error).toBeInstanceOf(TypeError);
			expect((error as TypeError).message).toMatch(/^proxy /);
			expect((error as TypeError).message).not.toMatch(/pa%ss|secret/);
		}
	});
});

describe('createNodeFetch: TLS and proxies', () => {
	let tls: TestTls;
	let server: LoopbackServer;
	beforeAll(async () => {
		tls = await createTestTls();
		server = await startHttpsServer(tls, (_request, response) =>
			response.writeHead(200, json).end('{"tls":true}'),
		);
	});
	afterAll(async () => {
		await server.close();
		await tls.remove();
	});

	// a test that starts node processes (each importing the package) waits on a loaded machine's
	// process start-ups, which take seconds when every core is busy: not on this code
	const CHILD_TEST_TIMEOUT_MS = 30_000;
	const child = async (url: string, options: object, env: Record<string, string> = {}) => {
		const { stdout } = await runFile(process.execPath, [CHILD, JSON.stringify({ url, options })], {
			env: { ...process.env, ...env },
		});
		return JSON.parse(stdout);
	};

	it('verifies certificates: an unknown CA is refused', async () => {
		const error = await local(`${server.origin}/`).catch((e) => e);
		expect(error).toBeInstanceOf(TypeError);
		expect(error.cause.code).toMatch(/CERT|SIGNATURE|SELF_SIGNED/);
	});

	it(
		'trusts the CAs in NODE_EXTRA_CA_CERTS, as Node does',
		async () => {
			const ok = await child(
				`${server.origin}/`,
				{ allowPrivateNetwork: ['localhost'] },
				{ NODE_EXTRA_CA_CERTS: tls.caPath },
			);
			expect(ok).toEqual({ status: 200, body: '{"tls":true}' });
		},
		CHILD_TEST_TIMEOUT_MS,
	);

	it(
		'tunnels https through a CONNECT proxy to the checked address',
		async () => {
			const proxy = await startConnectProxy();
			try {
				const ok = await child(
					`${server.origin}/`,
					{ allowPrivateNetwork: ['localhost'], proxy: proxy.url.replace('//', '//user:p%40ss@') },
					{ NODE_EXTRA_CA_CERTS: tls.caPath },
				);
				expect(ok).toEqual({ status: 200, body: '{"tls":true}' });
				// the name was resolved and checked here; the proxy was asked for the address
				expect(proxy.tunnels).toEqual([`127.0.0.1:${server.port}`]);
				expect(proxy.authorizations).toEqual([`Basic ${Buffer.from('user:p@ss').toString('base64')}`]);
			} finally {
				await proxy.close();
			}
		},
		CHILD_TEST_TIMEOUT_MS,
	);

	it('keeps the guard behind a proxy: a private target is refused before any tunnel opens', async () => {
		const proxy = await startConnectProxy();
		try {
			const fetch = createNodeFetch({ proxy: proxy.url });
			await expect(fetch(`${server.origin}/`)).rejects.toBeInstanceOf(PrivateNetworkError);
			expect(proxy.tunnels).toEqual([]);
		} finally {
			await proxy.close();
		}
	});

	it('connects to a noProxy host directly and sends another through the proxy', async () => {
		const proxy = await startConnectProxy();
		const plain = await startHttpServer((_request, response) =>
			response.writeHead(200, json).end('{"plain":true}'),
		);
		try {
			// as NO_PROXY would be written: the IP literal is exempt, the name localhost is not
			const fetch = createNodeFetch({
				allowPrivateNetwork: true,
				proxy: proxy.url,
				noProxy: 'a.test, 127.0.0.1',
			});
			expect(await (await fetch(`http://127.0.0.1:${plain.port}/`)).json()).toEqual({ plain: true });
			expect(proxy.tunnels).toEqual([]);
			expect(await (await fetch(`${plain.origin}/`)).json()).toEqual({ plain: true });
			expect(proxy.tunnels).toEqual([`localhost:${plain.port}`]);
			expect(plain.requests).toHaveLength(2);
		} finally {
			await plain.close();
			await proxy.close();
		}
	});

	it(
		'connects to a noProxy https host directly, verified, and matches its port',
		async () => {
			const proxy = await startConnectProxy();
			try {
				const env = { NODE_EXTRA_CA_CERTS: tls.caPath };
				const options = { allowPrivateNetwork: ['localhost'], proxy: proxy.url };
				const direct = await child(
					`${server.origin}/`,
					{ ...options, noProxy: `.test,localhost:${server.port}` },
					env,
				);
				expect(direct).toEqual({ status: 200, body: '{"tls":true}' });
				expect(proxy.tunnels).toEqual([]);
				// another port of the same host is not exempt
				const tunnelled = await child(
					`${server.origin}/`,
					{ ...options, noProxy: `localhost:${server.port + 1}` },
					env,
				);
				expect(tunnelled).toEqual({ status: 200, body: '{"tls":true}' });
				expect(proxy.tunnels).toEqual([`127.0.0.1:${server.port}`]);
			} finally {
				await proxy.close();
			}
		},
		CHILD_TEST_TIMEOUT_MS,
	);

	it('keeps the guard on direct connections: a noProxy host on loopback is refused', async () => {
		const proxy = await startConnectProxy();
		try {
			const fetch = createNodeFetch({ proxy: proxy.url, noProxy: '*' });
			await expect(fetch(`${server.origin}/`)).rejects.toBeInstanceOf(PrivateNetworkError);
			expect(proxy.tunnels).toEqual([]);
		} finally {
			await proxy.close();
		}
	});

	it('tunnels plain http through the proxy too', async () => {
		const proxy = await startConnectProxy();
		const plain = await startHttpServer((_request, response) =>
			response.writeHead(200, json).end('{"plain":true}'),
		);
		try {
			const fetch = createNodeFetch({ allowPrivateNetwork: true, proxy: proxy.url });
			expect(await (await fetch(`${plain.origin}/`)).json()).toEqual({ plain: true });
			expect(proxy.tunnels).toEqual([`localhost:${plain.port}`]);
		} finally {
			await plain.close();
			await proxy.close();
		}
	});
});

describe('createNodeFetch: connections after a cancelled body', () => {
	it('reuses the connection of a response whose body was cancelled after it had arrived', async () => {
		let sent: () => void = () => {};
		const server = await startHttpServer((_request, response) => {
			// two chunks: the first fills the reader's queue, the second waits in the socket
			response.writeHead(401, { 'content-type': 'application/json' });
			response.write('{"error":');
			setTimeout(() => response.end('"use_dpop_nonce"}', () => sent()), 5);
		});
		try {
			const fetch = createNodeFetch({ allowPrivateNetwork: true });
			for (let i = 0; i < 4; i++) {
				const whole = new Promise<void>((resolve) => {
					sent = resolve;
				});
				const response = await fetch(`${server.origin}/`);
				// the whole answer has arrived; then, as the DPoP retry does, it is dropped unread
				await whole;
				await new Promise((resolve) => setTimeout(resolve, 50));
				await response.body?.cancel();
			}
			expect(server.connections).toBe(1);
			expect(server.requests).toHaveLength(4);
		} finally {
			await server.close();
		}
	});
});
