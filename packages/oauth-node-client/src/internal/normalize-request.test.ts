import stream from 'node:stream';

import { describe, expect, it } from 'vitest';

import { type NormalizedRequest, normalizeRequest } from './normalize-request.ts';

const headersOf = (headers: unknown) => {
	const request = normalizeRequest(stream, 'https://pds.example/', { headers: headers as HeadersInit });
	return (request as NormalizedRequest).headers;
};

/** a Headers from another implementation: iterable pairs, and no own keys a record would have. */
class OtherHeaders {
	#pairs: [string, string][];
	constructor(pairs: [string, string][]) {
		this.#pairs = pairs;
	}
	*[Symbol.iterator]() {
		yield* this.#pairs;
	}
}

describe('normalizeRequest: headers', () => {
	it.each([
		[
			'a Map',
			() =>
				new Map([
					['Authorization', 'DPoP t'],
					['X-A', '1'],
				]),
		],
		[
			'a generator',
			() =>
				(function* () {
					yield ['Authorization', 'DPoP t'];
					yield ['X-A', '1'];
				})(),
		],
		[
			'another Headers implementation',
			() =>
				new OtherHeaders([
					['Authorization', 'DPoP t'],
					['X-A', '1'],
				]),
		],
		['a Headers', () => new Headers({ Authorization: 'DPoP t', 'X-A': '1' })],
		[
			'a list of pairs',
			() => [
				['Authorization', 'DPoP t'],
				['X-A', '1'],
			],
		],
		['a record', () => ({ Authorization: 'DPoP t', 'X-A': '1' })],
	])('reads %s as fetch does, Authorization included', (_label, make) => {
		expect(headersOf(make())).toEqual({ authorization: 'DPoP t', 'x-a': '1' });
	});

	it('joins a name given twice, as Headers does', () => {
		expect(headersOf({ 'X-A': '1', 'x-a': '2' })).toEqual({ 'x-a': '1, 2' });
		expect(
			headersOf(
				new Map([
					['X-A', '1'],
					['x-a', '2'],
				]),
			),
		).toEqual({ 'x-a': '1, 2' });
		expect(
			headersOf([
				['X-A', '1'],
				['x-a', '2'],
			]),
		).toEqual({ 'x-a': '1, 2' });
	});

	it('refuses what Headers refuses', () => {
		expect(() => headersOf(new Map([['bad name', '1']]))).toThrow(TypeError);
		expect(() => headersOf(new Set(['not a pair']))).toThrow(TypeError);
	});
});
