import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DiscoveryError } from './discovery-error.ts';
import { fetchJsonDocument } from './fetch-json-document.ts';
import { startTestServer, type TestServer } from './test-utils/metadata-test-server.ts';

let server: TestServer;
beforeAll(async () => {
	server = await startTestServer();
});
afterAll(async () => {
	await server.close();
});

/** a route that answers `{"ok":true}` under these `Content-Type` header lines, in this order. */
const answering = (path: string, types: string[]) =>
	server.route(path, (_req, res) => {
		res.writeHead(200, [...types.map((type) => ['content-type', type]), ['content-length', '11']].flat());
		res.end('{"ok":true}');
	});

const get = (path: string) => fetchJsonDocument(server.origin + path, { maxBytes: 1024, allowHttp: true });

/**
 * a front server that adds its own `Content-Type` to the upstream's (nginx's `add_header
 * Content-Type` beside a `default_type`): `Headers` joins the lines with ", ", and the media type
 * is the last valid one, as the Fetch standard extracts it (and a browser reads the document).
 * @see https://fetch.spec.whatwg.org/#concept-header-extract-mime-type
 */
describe('fetchJsonDocument, a Content-Type header sent more than once', () => {
	it('accepts the same JSON type twice', async () => {
		answering('/twice', ['application/json', 'application/json']);
		await expect(get('/twice')).resolves.toEqual({ ok: true });
	});

	it('accepts a JSON type added after another', async () => {
		answering('/added', ['application/octet-stream', 'application/json; charset=utf-8']);
		await expect(get('/added')).resolves.toEqual({ ok: true });
	});

	it('refuses a JSON type followed by another, naming the header as it came', async () => {
		answering('/last', ['application/json', 'text/html']);
		const error = await get('/last').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(DiscoveryError);
		expect(error).toMatchObject({ code: 'bad_content_type', transient: false });
		expect((error as Error).message).toContain('application/json, text/html');
	});
});
