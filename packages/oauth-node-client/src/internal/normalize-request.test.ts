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

describe('normalizeRequest: signal', () => {
	const signalOf = (input: string | Request, signal: unknown) =>
		normalizeRequest(stream, input, { signal: signal as AbortSignal });

	it.each([
		['the AbortController itself', () => new AbortController(), 'AbortController'],
		['an empty object', () => ({}), 'object'],
		['a string', () => 'abort', 'string'],
		['an object without removeEventListener', () => ({ aborted: false, addEventListener() {} }), 'object'],
	])('refuses %s, naming signal and what it got', (_label, make, kind) => {
		expect(() => signalOf('https://pds.example/', make())).toThrow(TypeError);
		expect(() => signalOf('https://pds.example/', make())).toThrow(
			`signal must be an AbortSignal (pass controller.signal, not the controller), got ${kind}`,
		);
		// a Request as input is checked the same way, before it is read
		expect(() => signalOf(new Request('https://pds.example/'), make())).toThrow(/^signal must be/);
	});

	it('takes an AbortSignal, none, or one from a polyfill, as fetch does', async () => {
		const signal = new AbortController().signal;
		expect((signalOf('https://pds.example/', signal) as NormalizedRequest).signal).toBe(signal);
		expect((signalOf('https://pds.example/', null) as NormalizedRequest).signal).toBe(null);
		expect((signalOf('https://pds.example/', undefined) as NormalizedRequest).signal).toBe(undefined);
		const polyfill = { aborted: false, addEventListener() {}, removeEventListener() {} };
		expect((signalOf('https://pds.example/', polyfill) as NormalizedRequest).signal).toBe(polyfill);
		// a Request's own signal is always an AbortSignal
		const request = new Request('https://pds.example/', { signal });
		expect((await normalizeRequest(stream, request, undefined)).signal).toBeInstanceOf(AbortSignal);
	});
});
