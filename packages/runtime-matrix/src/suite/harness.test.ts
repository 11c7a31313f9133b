// the matrix's own harness must be able to fail: a throwing test, a failed assertion and a wrong
// error class each count as failed, with a readable reason.
import { describe, expect, it } from 'vitest';

import { createSuite, equal, ok, rejects } from './harness.mjs';

describe('the runtime-neutral harness', () => {
	it('reports each test as passed or failed, with the error and its cause', async () => {
		const suite = createSuite();
		suite.test('passes', async () => {
			equal({ a: [1, 2] }, { a: [1, 2] }, 'deep');
			ok(1, 'truthy');
		});
		suite.test('fails an assertion', () => equal(20, 19, 'burst calls that succeeded'));
		suite.test('throws with a cause', () => {
			throw new Error('callback failed', { cause: new TypeError('Unsupported cache mode: no-cache') });
		});
		const results = await suite.run();
		expect(results.map(({ name, ok: passed }) => [name, passed])).toEqual([
			['passes', true],
			['fails an assertion', false],
			['throws with a cause', false],
		]);
		expect(results[1]!.error).toMatch(/^Error: burst calls that succeeded: expected 19, got 20/);
		expect(results[2]!.error).toMatch(
			/^Error: callback failed <- caused by TypeError: Unsupported cache mode: no-cache/,
		);
	});

	it('runs only the tests whose name includes the filter', async () => {
		const suite = createSuite();
		const ran: string[] = [];
		suite.test('redis flow', () => void ran.push('redis'));
		suite.test('sqlite flow', () => void ran.push('sqlite'));
		expect((await suite.run('redis')).map((result) => result.name)).toEqual(['redis flow']);
		expect(ran).toEqual(['redis']);
	});

	it('rejects() passes on the named error only', async () => {
		const notFound = Object.assign(new Error('no session'), { name: 'SessionNotFoundError' });
		await expect(rejects(Promise.reject(notFound), 'SessionNotFoundError', 'restore')).resolves.toBe(
			notFound,
		);
		await expect(
			rejects(Promise.reject(new Error('boom')), 'SessionNotFoundError', 'restore'),
		).rejects.toThrow(/restore: expected a SessionNotFoundError, got Error: boom/);
		await expect(rejects(Promise.resolve(1), 'SessionNotFoundError', 'restore')).rejects.toThrow(
			/but it resolved/,
		);
		expect(() => ok(0, 'session')).toThrow(/session: expected a truthy value/);
	});
});
