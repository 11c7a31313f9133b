import { describe, expect, it } from 'vitest';

import { DiscoveryError, type DiscoveryErrorCode } from './discovery-error.ts';

describe('DiscoveryError', () => {
	it('has a stable name and the fields callers branch on', () => {
		const error = new DiscoveryError('bad_status', 'https://pds.example/x', 'message', { status: 404 });
		expect(error).toBeInstanceOf(Error);
		expect(error.name).toBe('DiscoveryError');
		expect(error.code).toBe('bad_status');
		expect(error.url).toBe('https://pds.example/x');
		expect(error.status).toBe(404);
		expect(error.message).toBe('message');
	});

	it.each<[DiscoveryErrorCode, number | undefined, boolean]>([
		['network', undefined, true],
		['timeout', undefined, true],
		['bad_status', 500, true],
		['bad_status', 503, true],
		['bad_status', 429, true],
		['bad_status', 408, true],
		['bad_status', 404, false],
		['bad_status', 400, false],
		['bad_status', 401, false],
		['redirect', 302, false],
		['too_large', 200, false],
		['mismatch', undefined, false],
		['invalid_metadata', 200, false],
	])('classifies %s (status %s) as transient: %s', (code, status, transient) => {
		expect(new DiscoveryError(code, 'https://x.example', 'm', { status }).transient).toBe(transient);
	});
});
