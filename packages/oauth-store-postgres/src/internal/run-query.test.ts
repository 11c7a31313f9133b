import { describe, expect, it } from 'vitest';

import { ClosedFailure, classify } from './run-query.ts';

describe('classify', () => {
	it("takes node-postgres's errors for an ended pool and a closed Client as closed for good, not transient", () => {
		const pool = classify(new Error('Cannot use a pool after calling end on the pool'));
		expect(pool).toBeInstanceOf(ClosedFailure);
		expect(pool).toMatchObject({
			transient: false,
			sqlState: undefined,
			message: 'the pool was ended (pool.end() was called) and gives no connection any more',
			cause: expect.objectContaining({ message: 'Cannot use a pool after calling end on the pool' }),
		});
		const client = classify(new Error('Client was closed and is not queryable'));
		expect(client).toBeInstanceOf(ClosedFailure);
		expect(client).toMatchObject({
			transient: false,
			message: 'the client was closed (client.end() was called) and runs no statement any more',
		});
	});

	it('keeps every other error without a SQLSTATE transient, one that only looks alike included', () => {
		for (const message of [
			'connect ECONNREFUSED 127.0.0.1:5432',
			'Connection terminated unexpectedly',
			'Connection terminated',
			'Client has encountered a connection error and is not queryable',
			'the statement failed: Cannot use a pool after calling end on the pool',
		]) {
			const failure = classify(new Error(message));
			expect(failure).not.toBeInstanceOf(ClosedFailure);
			expect(failure).toMatchObject({
				transient: true,
				message: `PostgreSQL could not be reached: ${message}`,
			});
		}
	});
});
