import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

describe('createNodeFetch: request headers sent as the global fetch sends them', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		// answers with the header lines it got, as they came (names lower-cased)
		server = await startHttpServer((request, response) => {
			const lines: [string, string][] = [];
			for (let i = 0; i < request.rawHeaders.length; i += 2) {
				lines.push([request.rawHeaders[i]!.toLowerCase(), request.rawHeaders[i + 1]!]);
			}
			response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(lines));
		});
	});
	afterAll(() => server.close());

	/** the lines of `names` the server got from `fetcher` given `headers`. */
	const sent = async (fetcher: typeof fetch, headers: HeadersInit, names: string[]) => {
		const lines = (await (await fetcher(`${server.origin}/`, { headers })).json()) as [string, string][];
		return lines.filter(([name]) => names.includes(name));
	};

	const CASES: [string, () => HeadersInit, string[]][] = [
		// a name that is also an Object.prototype property: sent as given, not joined to a function's text
		[
			'a record with a "constructor" header',
			() => ({ constructor: 'c', 'x-a': '1' }),
			['constructor', 'x-a'],
		],
		[
			'a list with a "constructor" header',
			() => [
				['Constructor', 'c'],
				['x-a', '1'],
			],
			['constructor', 'x-a'],
		],
		[
			'a prototype-less record (as the DPoP layer passes) with a "constructor" header',
			() => Object.assign(Object.create(null) as Record<string, string>, { constructor: 'c' }),
			['constructor'],
		],
		// Cookie lines given twice are one cookie list: joined with "; " as Headers joins them
		[
			'a list with two Cookie lines',
			() => [
				['cookie', 'a=1'],
				['Cookie', 'b=2'],
			],
			['cookie'],
		],
		['a record with Cookie in two cases', () => ({ Cookie: 'a=1', cookie: 'b=2' }), ['cookie']],
		// Headers hands each Set-Cookie apart: every one is sent, not only the last
		[
			'a Headers with two Set-Cookie values',
			() =>
				new Headers([
					['set-cookie', 'a=1'],
					['set-cookie', 'b=2'],
				]),
			['set-cookie'],
		],
	];

	it.each(CASES)('%s', async (_label, make, names) => {
		const ours = await sent(local, make(), names);
		const theirs = await sent(globalThis.fetch, make(), names);
		expect(ours).toEqual(theirs);
	});
});
