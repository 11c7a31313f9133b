import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthResponseError, OAuthTransientError } from '../errors.ts';
import { RetryAfterHolds } from './retry-after-holds.ts';

const didOf = (i: number) => `did:plc:${String(i).padStart(24, '0')}` as Did;
const rateLimited = (retryAfterMs: number | undefined) =>
	new OAuthTransientError('rate_limited', 'token endpoint answered 429', 429, { retryAfterMs });

describe('RetryAfterHolds', () => {
	it("holds an account for the server's wait, counting down, and lets it go after", () => {
		let now = 1_000_000;
		const holds = new RetryAfterHolds(() => now);
		holds.note(didOf(1), rateLimited(5000));
		now += 2000;
		expect(holds.check(didOf(1))).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 3000 });
		expect(holds.check(didOf(2))).toBeUndefined();
		now += 3000;
		expect(holds.check(didOf(1))).toBeUndefined();
	});

	it('notes only transient errors that carry a wait', () => {
		const holds = new RetryAfterHolds(() => 0);
		holds.note(didOf(1), rateLimited(undefined));
		holds.note(didOf(2), rateLimited(0));
		holds.note(didOf(3), new OAuthResponseError('token', 400, 'invalid_request'));
		holds.note(didOf(4), Object.assign(new Error('look-alike'), { transient: true, retryAfterMs: 5000 }));
		for (let i = 1; i <= 4; i++) expect(holds.check(didOf(i))).toBeUndefined();
	});

	it('keeps at most 10,000 accounts, letting the oldest go first', () => {
		const holds = new RetryAfterHolds(() => 0);
		for (let i = 0; i <= 10_000; i++) holds.note(didOf(i), rateLimited(60_000));
		expect(holds.check(didOf(0))).toBeUndefined();
		expect(holds.check(didOf(1))).toBeInstanceOf(OAuthTransientError);
		expect(holds.check(didOf(10_000))).toBeInstanceOf(OAuthTransientError);
	});
});
