import { describe, expect, it } from 'vitest';

import { trackHolding } from './lease-loss.ts';

describe('trackHolding', () => {
	it('reports a loss once, and a reporter that throws or rejects breaks neither the holder nor the process', async () => {
		const reasons: string[] = [];
		let stops = 0;
		const rejecting = trackHolding<'taken'>(
			'n',
			async (event) => {
				reasons.push(event.reason);
				throw new Error('log sink down');
			},
			() => stops++,
		);
		rejecting.lose('taken');
		rejecting.lose('taken');
		const throwing = trackHolding<'taken'>(
			'n',
			() => {
				throw new Error('log sink down');
			},
			() => stops++,
		);
		throwing.lose('taken');
		// an unhandled rejection would fail this test run
		await new Promise((resolve) => setTimeout(resolve, 20));
		expect(reasons).toEqual(['taken']);
		expect(stops).toBe(2);
		expect(rejecting.lost && throwing.lost).toBe(true);
	});
});
