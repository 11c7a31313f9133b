import { describe, expect, it } from 'vitest';

import { ConnectionSignal } from './connect-signal.ts';

describe('ConnectionSignal', () => {
	it('aborts once, with its reason, running each listener still there once', () => {
		const signal = new ConnectionSignal();
		const calls: string[] = [];
		const first = () => calls.push(`first ${signal.aborted} ${String(signal.reason)}`);
		const removed = () => calls.push('removed');
		signal.addEventListener('abort', first);
		signal.addEventListener('abort', removed);
		signal.removeEventListener('abort', removed);
		signal.removeEventListener('abort', () => {});
		expect(signal.aborted).toBe(false);

		signal.abort('gone');
		signal.abort('again');
		expect(calls).toEqual(['first true gone']);
		expect(signal.reason).toBe('gone');
	});
});
