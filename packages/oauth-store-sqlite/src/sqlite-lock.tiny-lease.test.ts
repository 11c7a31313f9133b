import { describe, expect, it } from 'vitest';

import { lockFileEach } from './internal/test-lock-file.ts';

describe('createSqliteLock with a lease a timer cannot renew in time', () => {
	const { open } = lockFileEach();

	// renewed every third of it, on a timer that waits at least 1 ms: a lease of 1 ms (or 0.5, a
	// fraction) ran out between two renewals of a holder that was not stalled at all, and a second
	// holder got in. @atcute/oauth-lock-redis refuses such a lease too (an integer from 2)
	it.each([1, 0.5, 2.9])('refuses lease %s, naming it', (lease) => {
		expect(() => open({ lease })).toThrow(/^lease must be at least 3 milliseconds.*got /);
		expect(() => open({ lease })).toThrow(TypeError);
	});

	it('takes a lease of 3 ms, whose third a timer can wait', async () => {
		const lock = open({ lease: 3 });
		await expect(lock('did:plc:a', async () => 'ran')).resolves.toBe('ran');
	});
});
