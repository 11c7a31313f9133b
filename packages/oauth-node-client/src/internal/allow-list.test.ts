import { describe, expect, it } from 'vitest';

import { allowList } from './allow-list.ts';

// hosts as the transport gets them: a URL's hostname, without the brackets of an IPv6 literal
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

describe('allowList', () => {
	it.each([
		// [entry, URL, allowed?]
		['bücher.test', 'http://bücher.test/', true],
		['BÜCHER.test', 'http://xn--bcher-kva.test/', true],
		['xn--bcher-kva.test', 'http://bücher.test/', true],
		['bücher.test', 'http://bucher.test/', false],
		['LOCALHOST', 'http://localhost:3000/', true],
		['localhost', 'http://localhost.evil.test/', false],
		['127.0.0.1', 'http://127.1/', true],
		['127.1', 'http://127.0.0.1/', true],
		['::1', 'http://[::1]/', true],
		['[::1]', 'http://[0:0:0:0:0:0:0:1]/', true],
		['0:0:0:0:0:0:0:1', 'http://[::1]/', true],
		['::ffff:127.0.0.1', 'http://[::ffff:7f00:1]/', true],
		['::1', 'http://127.0.0.1/', false],
	])('%s lets %s through: %s', (entry, url, allowed) => {
		expect(allowList([entry])(hostOf(url))).toBe(allowed);
	});

	it('lets every host through for true, and none for false or nothing', () => {
		expect(allowList(true)('127.0.0.1')).toBe(true);
		expect(allowList(false)('localhost')).toBe(false);
		expect(allowList(undefined)('localhost')).toBe(false);
	});

	it.each([
		'',
		'localhost:3000',
		'http://localhost',
		'pds.example/xrpc',
		'a b.test',
		'user@host.test',
		'[::1',
		'a..b%',
	])('refuses the entry %j, naming it', (entry) => {
		expect(() => allowList([entry])).toThrow(TypeError);
		expect(() => allowList([entry])).toThrow(`allowPrivateNetwork: ${JSON.stringify(entry)}`);
	});

	it.each(['*.internal', '.internal', '*', 'pds.*.test'])(
		'refuses the wildcard %j, which would never match, saying to list exact hosts',
		(entry) => {
			expect(() => allowList([entry])).toThrow(TypeError);
			expect(() => allowList([entry])).toThrow(
				`allowPrivateNetwork: ${JSON.stringify(entry)} is a wildcard, and wildcards are not supported; list the exact hosts`,
			);
		},
	);

	it('refuses anything but a boolean or a list of strings', () => {
		expect(() => allowList('localhost' as never)).toThrow(/allowPrivateNetwork/);
		expect(() => allowList([42] as never)).toThrow(/allowPrivateNetwork: 42/);
	});
});
