import type { ServerResponse } from 'node:http';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DiscoveryError } from './discovery-error.ts';
import { fetchJsonDocument } from './fetch-json-document.ts';
import { closedOrigin, json, startTestServer, type TestServer } from './test-utils/metadata-test-server.ts';

const MAX = 1024;

let server: TestServer;
beforeAll(async () => {
	server = await startTestServer();
});
afterAll(async () => {
	await server.close();
});
beforeEach(() => {
	server.reset();
});

/** fetches `path` of the test server with allowHttp (the server is plain http on 127.0.0.1). */
const get = (path: string, options: { maxBytes?: number; timeout?: number; signal?: AbortSignal } = {}) => {
	return fetchJsonDocument(server.origin + path, { maxBytes: MAX, allowHttp: true, ...options });
};

/** the DiscoveryError a promise rejects with. */
const failure = async (promise: Promise<unknown>): Promise<DiscoveryError> => {
	const error = await promise.then(
		() => undefined,
		(error: unknown) => error,
	);
	expect(error).toBeInstanceOf(DiscoveryError);
	return error as DiscoveryError;
};

/**
 * a handler that streams `chunk` again and again (up to `total` bytes) and reports, when the
 * connection ends, whether it had sent everything.
 */
const endless = (headers: Record<string, string>, total: number) => {
	let report: (result: { completed: boolean; sent: number }) => void;
	const closed = new Promise<{ completed: boolean; sent: number }>((resolve) => {
		report = resolve;
	});
	const chunk = Buffer.alloc(16 * 1024, 0x20);
	const handler = (_req: unknown, res: ServerResponse) => {
		let sent = 0;
		res.writeHead(200, { 'content-type': 'application/json', ...headers });
		res.write('[');
		const timer = setInterval(() => {
			if (res.destroyed) return;
			if (sent >= total) {
				clearInterval(timer);
				res.end(']');
				return;
			}
			res.write(chunk);
			sent += chunk.byteLength;
		}, 2);
		res.on('close', () => {
			clearInterval(timer);
			report({ completed: res.writableFinished, sent });
		});
	};
	return { handler, closed };
};

describe('fetchJsonDocument', () => {
	it('returns the JSON object of a 200 application/json answer', async () => {
		server.route('/doc', json({ hello: 'world' }));
		await expect(get('/doc')).resolves.toEqual({ hello: 'world' });
	});

	it('accepts parameters after the media type', async () => {
		server.route('/doc', json({ ok: true }, 200, { 'content-type': 'Application/JSON; charset=utf-8' }));
		await expect(get('/doc')).resolves.toEqual({ ok: true });
	});

	it('sends Accept: application/json', async () => {
		let accept: string | undefined;
		server.route('/doc', (req, res) => {
			accept = req.headers.accept;
			json({})(req, res);
		});
		await get('/doc');
		expect(accept).toBe('application/json');
	});

	it.each([301, 302, 303, 307, 308])(
		'refuses a %i redirect even when its target is valid',
		async (status) => {
			server.route('/target', json({ hello: 'world' }));
			server.route('/doc', (_req, res) => {
				res.writeHead(status, { location: `${server.origin}/target` });
				res.end();
			});
			const error = await failure(get('/doc'));
			expect(error.code).toBe('redirect');
			expect(error.status).toBe(status);
			expect(error.transient).toBe(false);
			expect(error.message).toContain(`${server.origin}/doc`);
			expect(server.count('/target')).toBe(0);
		},
	);

	it('refuses a 404 as bad_status, not transient', async () => {
		const error = await failure(get('/missing'));
		expect(error.code).toBe('bad_status');
		expect(error.status).toBe(404);
		expect(error.transient).toBe(false);
		expect(error.url).toBe(`${server.origin}/missing`);
		expect(error.message).toContain(`${server.origin}/missing`);
		expect(error.message).toContain('404');
	});

	it.each([500, 502, 503, 429, 408])('marks a %i as transient', async (status) => {
		server.route('/doc', json({ error: 'later' }, status));
		const error = await failure(get('/doc'));
		expect(error.code).toBe('bad_status');
		expect(error.status).toBe(status);
		expect(error.transient).toBe(true);
	});

	it("keeps a transient answer's Retry-After as retryAfterMs, and none of a refusal's", async () => {
		const answer = (status: number, retryAfter?: string) => (_req: unknown, res: ServerResponse) => {
			res.writeHead(status, retryAfter === undefined ? {} : { 'retry-after': retryAfter });
			res.end();
		};
		server.route('/busy', answer(503, '120'));
		expect(await failure(get('/busy'))).toMatchObject({ transient: true, retryAfterMs: 120_000 });
		server.route('/limited', answer(429, '1'));
		expect(await failure(get('/limited'))).toMatchObject({ transient: true, retryAfterMs: 1_000 });
		// capped at an hour, as the token endpoint's is
		server.route('/long', answer(503, '86400'));
		expect(await failure(get('/long'))).toMatchObject({ retryAfterMs: 3_600_000 });
		server.route('/bare', answer(503));
		expect((await failure(get('/bare'))).retryAfterMs).toBeUndefined();
		server.route('/gone', answer(404, '120'));
		expect(await failure(get('/gone'))).toMatchObject({ transient: false, retryAfterMs: undefined });
	});

	it('refuses a 201 even with a JSON body', async () => {
		server.route('/doc', json({ ok: true }, 201));
		const error = await failure(get('/doc'));
		expect(error.code).toBe('bad_status');
		expect(error.transient).toBe(false);
	});

	it('refuses a text/html answer', async () => {
		server.route('/doc', (_req, res) => {
			res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
			res.end('<!doctype html><title>app</title>');
		});
		const error = await failure(get('/doc'));
		expect(error.code).toBe('bad_content_type');
		expect(error.transient).toBe(false);
		expect(error.message).toContain('text/html');
		expect(error.message).toContain(`${server.origin}/doc`);
		expect(error.message).not.toContain('doctype');
	});

	it('refuses an answer without a content type', async () => {
		server.route('/doc', (_req, res) => {
			res.writeHead(200);
			res.end('{}');
		});
		expect((await failure(get('/doc'))).code).toBe('bad_content_type');
	});

	it('refuses a content type that only starts like JSON', async () => {
		server.route('/doc', json({}, 200, { 'content-type': 'application/jsonp' }));
		expect((await failure(get('/doc'))).code).toBe('bad_content_type');
	});

	it('refuses a declared Content-Length over the cap without reading the body', async () => {
		const total = 4 * 1024 * 1024;
		const { handler, closed } = endless({ 'content-length': String(total + 2) }, total);
		server.route('/big', handler);
		const error = await failure(get('/big'));
		expect(error.code).toBe('too_large');
		expect(error.transient).toBe(false);
		expect(error.message).toContain(`${server.origin}/big`);
		// the server sees the connection closed long before it could send it all
		const result = await closed;
		expect(result.completed).toBe(false);
		expect(result.sent).toBeLessThan(total);
	});

	it('refuses a chunked body that grows past the cap and stops reading it', async () => {
		const total = 4 * 1024 * 1024;
		const { handler, closed } = endless({}, total);
		server.route('/big', handler);
		const error = await failure(get('/big'));
		expect(error.code).toBe('too_large');
		const result = await closed;
		expect(result.completed).toBe(false);
		expect(result.sent).toBeLessThan(total);
	});

	it('refuses a body over the cap even when Content-Length understates it', async () => {
		server.route('/lie', (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ padding: 'x'.repeat(MAX * 2) }));
		});
		const error = await failure(get('/lie', { maxBytes: MAX }));
		expect(error.code).toBe('too_large');
	});

	it('accepts a body of exactly maxBytes', async () => {
		const body = JSON.stringify({ p: 'x'.repeat(MAX - 8) });
		expect(body.length).toBe(MAX);
		server.route('/exact', (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(body);
		});
		await expect(get('/exact')).resolves.toEqual(JSON.parse(body));
	});

	it('gives up on a server slower than the timeout, as transient', { timeout: 5_000 }, async () => {
		server.route('/slow', (_req, res) => {
			const timer = setTimeout(() => json({ late: true })(_req, res), 30_000);
			res.on('close', () => clearTimeout(timer));
		});
		const error = await failure(get('/slow', { timeout: 200 }));
		expect(error.code).toBe('timeout');
		expect(error.transient).toBe(true);
		expect(error.message).toContain(`${server.origin}/slow`);
		expect(error.message).toContain('200 ms');
	});

	it('counts the body against the timeout too', { timeout: 5_000 }, async () => {
		server.route('/trickle', (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.write('{"a":');
			// the rest never comes
		});
		const error = await failure(get('/trickle', { timeout: 200 }));
		expect(error.code).toBe('timeout');
		expect(error.transient).toBe(true);
	});

	it('keeps its time limit with a fetch that does not pass the signal on, or a body that ignores it', {
		timeout: 5_000,
	}, async () => {
		server.route('/slow', (_req, res) => {
			const timer = setTimeout(() => json({ late: true })(_req, res), 2_000);
			res.on('close', () => clearTimeout(timer));
		});
		// an app's fetch that puts its own (longer) limit in place of ours
		const ownSignal: typeof fetch = (input, init) =>
			globalThis.fetch(input, { ...init, signal: AbortSignal.timeout(30_000) });
		// a body whose stream never ends and cannot be cancelled from the request
		const endless: typeof fetch = async () =>
			new Response(
				new ReadableStream({
					start: (controller) => controller.enqueue(new TextEncoder().encode('{')),
					pull: () => new Promise(() => {}),
				}),
				{ headers: { 'content-type': 'application/json' } },
			);
		for (const fetch of [ownSignal, endless]) {
			const started = performance.now();
			const error = await failure(
				fetchJsonDocument(`${server.origin}/slow`, { maxBytes: MAX, allowHttp: true, timeout: 200, fetch }),
			);
			expect(error.code).toBe('timeout');
			expect(performance.now() - started).toBeLessThan(1_500);
		}
	});

	it('reports a refused connection as network, transient', async () => {
		const origin = await closedOrigin();
		const error = await failure(
			fetchJsonDocument(`${origin}/doc`, { maxBytes: MAX, allowHttp: true, timeout: 5_000 }),
		);
		expect(error.code).toBe('network');
		expect(error.transient).toBe(true);
		expect(error.message).toContain(`${origin}/doc`);
	});

	it('refuses a body that is not JSON, without quoting it', async () => {
		server.route('/doc', (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"secret-looking": nope');
		});
		const error = await failure(get('/doc'));
		expect(error.code).toBe('invalid_json');
		expect(error.transient).toBe(false);
		expect(error.message).not.toContain('nope');
		expect(error.cause).toBeUndefined();
	});

	it('refuses an empty body as invalid JSON', async () => {
		server.route('/doc', (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end();
		});
		expect((await failure(get('/doc'))).code).toBe('invalid_json');
	});

	it('refuses a body that is not UTF-8', async () => {
		server.route('/doc', (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
		});
		expect((await failure(get('/doc'))).code).toBe('invalid_json');
	});

	it.each([
		['an array', [1, 2]],
		['null', null],
		['a string', 'hello'],
		['a number', 42],
	])('refuses JSON that is %s', async (_name, body) => {
		server.route('/doc', json(body));
		const error = await failure(get('/doc'));
		expect(error.code).toBe('invalid_metadata');
		expect(error.message).toContain('JSON object');
	});

	it('refuses http without allowHttp, before any request', async () => {
		server.route('/doc', json({}));
		const error = await failure(fetchJsonDocument(`${server.origin}/doc`, { maxBytes: MAX }));
		expect(error.code).toBe('insecure_protocol');
		expect(error.transient).toBe(false);
		expect(error.message).toContain(`${server.origin}/doc`);
		expect(server.count()).toBe(0);
	});

	it('refuses a URL with credentials, before any request, without repeating them', async () => {
		server.route('/doc', json({}));
		const url = `http://alice:hunter2@127.0.0.1:${new URL(server.origin).port}/doc`;
		const error = await failure(fetchJsonDocument(url, { maxBytes: MAX, allowHttp: true }));
		expect(error.code).toBe('invalid_url');
		expect(error.message).not.toContain('hunter2');
		expect(error.url).not.toContain('hunter2');
		expect(server.count()).toBe(0);
	});

	it.each(['not a url', 'ftp://127.0.0.1/doc', 'data:application/json,{}', 'file:///etc/passwd'])(
		'refuses %s as invalid_url',
		async (url) => {
			const error = await failure(fetchJsonDocument(url, { maxBytes: MAX, allowHttp: true }));
			expect(error.code).toBe('invalid_url');
		},
	);

	it("stops when the caller aborts, with the signal's reason", { timeout: 5_000 }, async () => {
		server.route('/slow', (_req, res) => {
			const timer = setTimeout(() => json({})(_req, res), 30_000);
			res.on('close', () => clearTimeout(timer));
		});
		const controller = new AbortController();
		const reason = new Error('user left');
		setTimeout(() => controller.abort(reason), 50);
		await expect(get('/slow', { signal: controller.signal, timeout: 10_000 })).rejects.toBe(reason);
	});

	it('rejects with the default AbortError when aborted without a reason', { timeout: 5_000 }, async () => {
		server.route('/slow', (_req, res) => {
			const timer = setTimeout(() => json({})(_req, res), 30_000);
			res.on('close', () => clearTimeout(timer));
		});
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 50);
		const error = await get('/slow', { signal: controller.signal, timeout: 10_000 }).catch((e: unknown) => e);
		expect(error).toBe(controller.signal.reason);
		expect(error).toMatchObject({ name: 'AbortError' });
	});

	it('sends nothing when the signal is already aborted', async () => {
		server.route('/doc', json({}));
		const signal = AbortSignal.abort(new Error('gone'));
		await expect(get('/doc', { signal })).rejects.toBe(signal.reason);
		expect(server.count()).toBe(0);
	});

	it('uses the injected fetch, with redirect manual', async () => {
		let seen: RequestInit | undefined;
		const document = await fetchJsonDocument('https://pds.example/doc', {
			maxBytes: MAX,
			fetch: async (_input, init) => {
				seen = init;
				return new Response('{"a":1}', { headers: { 'content-type': 'application/json' } });
			},
		});
		expect(document).toEqual({ a: 1 });
		expect(seen?.redirect).toBe('manual');
	});

	it('reports a throwing fetch as network, with the error as cause', async () => {
		const cause = new TypeError('fetch failed');
		const error = await failure(
			fetchJsonDocument('https://pds.example/doc', {
				maxBytes: MAX,
				fetch: () => Promise.reject(cause),
			}),
		);
		expect(error.code).toBe('network');
		expect(error.transient).toBe(true);
		expect(error.cause).toBe(cause);
	});

	it('reports a refusal the fetch marks not transient as refused, not transient', async () => {
		// an SSRF guard's refusal, as the Node facade's transport throws it, bare or wrapped by a fetch
		const refusal = Object.assign(
			new Error('refused to connect to pds.example (10.0.0.1): a private address'),
			{
				transient: false,
			},
		);
		for (const thrown of [refusal, new TypeError('fetch failed', { cause: refusal })]) {
			const error = await failure(
				fetchJsonDocument('https://pds.example/doc', {
					maxBytes: MAX,
					fetch: () => Promise.reject(thrown),
				}),
			);
			expect(error.code).toBe('refused');
			expect(error.transient).toBe(false);
			expect(error.cause).toBe(thrown);
			expect(error.message).toBe(
				'refused to fetch https://pds.example/doc: refused to connect to pds.example (10.0.0.1): a private address',
			);
		}
	});

	it('refuses an opaque redirect (what browsers give for redirect manual)', async () => {
		const opaque = Response.error();
		Object.defineProperty(opaque, 'type', { value: 'opaqueredirect' });
		const error = await failure(
			fetchJsonDocument('https://pds.example/doc', { maxBytes: MAX, fetch: async () => opaque }),
		);
		expect(error.code).toBe('redirect');
		expect(error.status).toBeUndefined();
	});

	it.each([0, -1, 1.5, Number.NaN])('throws a TypeError for maxBytes %s', async (maxBytes) => {
		await expect(fetchJsonDocument('https://pds.example/doc', { maxBytes })).rejects.toThrow(TypeError);
	});

	it.each([
		['timeout', { timeout: '200' }, /^timeout must be a positive number of milliseconds, got "200"$/],
		['allowHttp', { allowHttp: 'false' }, /^allowHttp must be a boolean, got string$/],
		['fetch', { fetch: {} }, /^fetch must be a function, got object$/],
		[
			'signal',
			{ signal: new AbortController() },
			/^signal must be an AbortSignal \(pass controller\.signal\), got AbortController$/,
		],
	])('throws a TypeError naming %s when it is of the wrong type', async (_, options, message) => {
		await expect(
			fetchJsonDocument('https://pds.example/doc', { maxBytes: MAX, ...(options as object) }),
		).rejects.toThrow(message);
	});

	it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
		'throws a TypeError for timeout %s',
		async (timeout) => {
			await expect(fetchJsonDocument('https://pds.example/doc', { maxBytes: MAX, timeout })).rejects.toThrow(
				TypeError,
			);
		},
	);
});
