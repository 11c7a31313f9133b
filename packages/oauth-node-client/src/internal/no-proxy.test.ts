import { describe, expect, it } from 'vitest';

import { parseNoProxy } from './no-proxy.ts';

describe('parseNoProxy', () => {
	it.each([
		// [NO_PROXY, host, port, direct?]
		['example.com', 'example.com', 443, true],
		['example.com', 'api.example.com', 443, true],
		['example.com', 'badexample.com', 443, false],
		['example.com', 'example.com.evil.test', 443, false],
		['.example.com', 'api.example.com', 443, true],
		['.example.com', 'example.com', 443, false],
		['*.example.com', 'a.b.example.com', 443, true],
		['*.example.com', 'example.com', 443, false],
		['EXAMPLE.com.', 'Example.COM', 443, true],
		['example.com:8443', 'example.com', 8443, true],
		['example.com:8443', 'example.com', 443, false],
		['10.0.0.1', '10.0.0.1', 80, true],
		['0.0.1', '10.0.0.1', 80, false],
		['10.0.0.1', '1.10.0.0.1', 80, false],
		['::1', '::1', 443, true],
		['[::1]', '[::1]', 443, true],
		['[::1]:8443', '::1', 8443, true],
		['[::1]:8443', '::1', 443, false],
		['*', 'anything.test', 1, true],
		['a.test, *', 'anything.test', 1, true],
		['a.test,b.test  c.test', 'c.test', 1, true],
		['a.test,,b.test', 'b.test', 1, true],
		['', 'a.test', 1, false],
		// loopback is not exempt unless listed
		['example.com', 'localhost', 80, false],
		['example.com', '127.0.0.1', 80, false],
	])('%j: %s port %i direct = %s', (option, host, port, direct) => {
		expect(parseNoProxy(option)(host, port)).toBe(direct);
	});

	it('takes a list, each item a NO_PROXY string', () => {
		const bypasses = parseNoProxy(['a.test', 'b.test,.c.test']);
		expect(['a.test', 'b.test', 'x.c.test', 'd.test'].map((host) => bypasses(host, 443))).toEqual([
			true,
			true,
			true,
			false,
		]);
	});

	it('sends everything through the proxy when unset', () => {
		expect(parseNoProxy(undefined)('localhost', 80)).toBe(false);
	});

	it.each(['localhost:abc', 'localhost:0', 'localhost:', 'a.test:99999', '[::1]:x', '*.example.com:-1'])(
		'refuses %j, whose port is not a number from 1 to 65535, naming the entry',
		(entry) => {
			expect(() => parseNoProxy(`a.test, ${entry}`)).toThrow(
				`noProxy has an entry whose port is not a number from 1 to 65535: ${JSON.stringify(entry)}`,
			);
		},
	);

	it('refuses a host with stray brackets or colons rather than never matching it', () => {
		expect(() => parseNoProxy('[example.com]:80')).toThrow(/noProxy has an entry that is not a host/);
		expect(() => parseNoProxy('a:b:80')).toThrow(/noProxy has an entry that is not a host/);
		expect(() => parseNoProxy('http://example.com')).toThrow(/noProxy has an entry that is not a host/);
	});

	it('refuses what it cannot read, naming the option', () => {
		expect(() => parseNoProxy('a.test, *.*.b.test')).toThrow(/noProxy/);
		expect(() => parseNoProxy('10.0.0.0/8')).toThrow(/noProxy/);
		expect(() => parseNoProxy('a.test:99999')).toThrow(/noProxy/);
		expect(() => parseNoProxy(42 as never)).toThrow(/noProxy/);
		expect(() => parseNoProxy([42] as never)).toThrow(/noProxy/);
	});
});
