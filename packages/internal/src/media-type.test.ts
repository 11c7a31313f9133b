import { describe, expect, it } from 'vitest';

import { mediaTypeOf } from './media-type.ts';

describe('mediaTypeOf', () => {
	it('gives the type and subtype, lowercased, without parameters', () => {
		expect(mediaTypeOf('Application/JSON; charset=UTF-8')).toBe('application/json');
		expect(mediaTypeOf('application/jrd+json')).toBe('application/jrd+json');
	});

	it('gives the last valid one of a header sent more than once, as the Fetch standard extracts it', () => {
		expect(mediaTypeOf('application/json, application/json')).toBe('application/json');
		expect(mediaTypeOf('application/octet-stream, application/json; charset=utf-8')).toBe('application/json');
		expect(mediaTypeOf('application/json, text/html')).toBe('text/html');
		// an invalid or wildcard one is passed over; a comma inside a quoted parameter splits nothing
		expect(mediaTypeOf('application/json, */*')).toBe('application/json');
		expect(mediaTypeOf('application/json, nonsense')).toBe('application/json');
		expect(mediaTypeOf('application/json; x="a, text/html"')).toBe('application/json');
	});

	it('gives undefined for no header, or none valid', () => {
		expect(mediaTypeOf(null)).toBeUndefined();
		for (const value of ['', 'json', '/json', 'application/', 'application /json', '*/*'])
			expect(mediaTypeOf(value)).toBeUndefined();
	});
});
