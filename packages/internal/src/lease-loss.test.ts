import { AsyncLocalStorage } from 'node:async_hooks';

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

	it('aborts its signal once, at the first loss, with the reason', () => {
		const holding = trackHolding<'taken' | 'expired'>(
			'n',
			() => {},
			() => {},
		);
		let aborts = 0;
		holding.signal.addEventListener('abort', () => aborts++);
		expect(holding.signal.aborted).toBe(false);
		holding.lose('taken');
		holding.lose('expired');
		expect(aborts).toBe(1);
		expect(holding.signal.reason).toEqual(new Error('the lock "n" was lost while held (taken)'));
	});

	it('reports a loss that may not be one without aborting, and aborts at the next that is', async () => {
		const reasons: string[] = [];
		const holding = trackHolding<'unconfirmed' | 'connection_lost'>(
			'n',
			(event) => reasons.push(event.reason),
			() => {},
		);
		holding.lose('unconfirmed', true);
		expect(holding.lost).toBe(true);
		expect(holding.signal.aborted).toBe(false);
		holding.lose('connection_lost');
		expect(holding.signal.aborted).toBe(true);
		expect(holding.signal.reason).toEqual(new Error('the lock "n" was lost while held (connection_lost)'));
		// reported once, as every loss is
		await Promise.resolve();
		expect(reasons).toEqual(['unconfirmed']);
	});

	it('tells onLeaseLost in the async context the holding began in, whichever context finds the loss', async () => {
		// an app's request context: a loss found by a pooled connection's event (opened by another
		// request) must land in the holder's request log, not in the other one's
		const als = new AsyncLocalStorage<string>();
		const reportedIn: Array<string | undefined> = [];
		const holding = als.run('holder', () =>
			trackHolding<'connection_lost'>(
				'n',
				() => reportedIn.push(als.getStore()),
				() => {},
			),
		);
		als.run('other request', () => holding.lose('connection_lost'));
		await expect.poll(() => reportedIn).toEqual(['holder']);
	});
});
