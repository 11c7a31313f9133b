import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthResponseError, OAuthTransientError } from '../errors.ts';
import { RetryAfterHolds } from './retry-after-holds.ts';

const didOf = (i: number) => `did:plc:${String(i).padStart(24, '0')}` as Did;
const rateLimited = (retryAfterMs: number | undefined) =>
	new OAuthTransientError('rate_limited', 'token endpoint answered 429', 429, { retryAfterMs });

describe('RetryAfterHolds', () => {
	it("holds an account's refresh token for the server's wait, counting down, and lets it go after", () => {
		let now = 1_000_000;
		const holds = new RetryAfterHolds(() => now);
		holds.note(didOf(1), 'rt-1', rateLimited(5000));
		now += 2000;
		expect(holds.check(didOf(1), 'rt-1')).toMatchObject({
			kind: 'rate_limited',
			status: 429,
			retryAfterMs: 3000,
		});
		expect(holds.check(didOf(2), 'rt-1')).toBeUndefined();
		now += 3000;
		expect(holds.check(didOf(1), 'rt-1')).toBeUndefined();
	});

	it('lets a session with another refresh token go, for good', () => {
		const holds = new RetryAfterHolds(() => 0);
		holds.note(didOf(1), 'rt-1', rateLimited(5000));
		expect(holds.check(didOf(1), 'rt-2')).toBeUndefined();
		expect(holds.check(didOf(1), 'rt-1')).toBeUndefined();
	});

	it('tells apart refresh tokens that share a long prefix and suffix, of the same length', () => {
		const holds = new RetryAfterHolds(() => 0);
		const tokenWith = (middle: string) => `${'a'.repeat(400)}${middle}${'z'.repeat(400)}`;
		holds.note(didOf(1), tokenWith('x'), rateLimited(5000));
		expect(holds.check(didOf(1), tokenWith('x'))).toBeInstanceOf(OAuthTransientError);
		expect(holds.check(didOf(1), tokenWith('y'))).toBeUndefined();
	});

	it('counts the wait again from a clock set back, never longer than the server asked', () => {
		let now = 1_000_000;
		const holds = new RetryAfterHolds(() => now);
		holds.note(didOf(1), 'rt-1', rateLimited(60_000));
		now += 20_000;
		expect(holds.check(didOf(1), 'rt-1')?.retryAfterMs).toBe(40_000);
		now -= 3_600_000;
		expect(holds.check(didOf(1), 'rt-1')?.retryAfterMs).toBe(60_000);
		now += 59_000;
		expect(holds.check(didOf(1), 'rt-1')?.retryAfterMs).toBe(1000);
		now += 1000;
		expect(holds.check(didOf(1), 'rt-1')).toBeUndefined();
	});

	it('notes only transient errors that carry a wait', () => {
		const holds = new RetryAfterHolds(() => 0);
		holds.note(didOf(1), 'rt', rateLimited(undefined));
		holds.note(didOf(2), 'rt', rateLimited(0));
		holds.note(didOf(3), 'rt', new OAuthResponseError('token', 400, 'invalid_request'));
		holds.note(
			didOf(4),
			'rt',
			Object.assign(new Error('look-alike'), { transient: true, retryAfterMs: 5000 }),
		);
		for (let i = 1; i <= 4; i++) expect(holds.check(didOf(i), 'rt')).toBeUndefined();
	});

	it('keeps at most 10,000 accounts, letting the oldest go first', () => {
		const holds = new RetryAfterHolds(() => 0);
		for (let i = 0; i <= 10_000; i++) holds.note(didOf(i), 'rt', rateLimited(60_000));
		expect(holds.check(didOf(0), 'rt')).toBeUndefined();
		expect(holds.check(didOf(1), 'rt')).toBeInstanceOf(OAuthTransientError);
		expect(holds.check(didOf(10_000), 'rt')).toBeInstanceOf(OAuthTransientError);
	});
});
