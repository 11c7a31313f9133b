import { describe, expect, it } from 'vitest';

import { OriginSlots } from './origin-slots.ts';

const timedOut = () => new Error('timed out');
const settled = async (promise: Promise<unknown>) => {
	let done = false;
	promise.then(
		() => (done = true),
		() => (done = true),
	);
	await new Promise((resolve) => setTimeout(resolve, 5));
	return done;
};

describe('OriginSlots', () => {
	it('gives up to the limit at once, at each origin apart', () => {
		const slots = new OriginSlots(2);
		expect([slots.tryTake('a'), slots.tryTake('a'), slots.tryTake('a')]).toEqual([true, true, false]);
		expect(slots.tryTake('b')).toBe(true);
	});

	it('hands a freed slot to the first waiter, and to no newcomer', async () => {
		const slots = new OriginSlots(1);
		slots.tryTake('a');
		const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
		const before = timers();
		const order: string[] = [];
		const first = slots.wait('a', undefined, 10_000, timedOut).then(() => order.push('first'));
		const second = slots.wait('a', undefined, 10_000, timedOut).then(() => order.push('second'));
		slots.release('a');
		// the slot is the first waiter's already, before its code runs
		expect(slots.tryTake('a')).toBe(false);
		await first;
		expect(await settled(second)).toBe(false);
		slots.release('a');
		await second;
		expect(order).toEqual(['first', 'second']);
		// a granted wait's time limit goes with it, rather than hold the process open
		expect(timers()).toBe(before);
	});

	it('lets a waiter whose signal aborts leave, holding nothing, and the next one in', async () => {
		const slots = new OriginSlots(1);
		slots.tryTake('a');
		const controller = new AbortController();
		const leaving = slots.wait('a', controller.signal, 10_000, timedOut);
		const staying = slots.wait('a', undefined, 10_000, timedOut);
		controller.abort('bye');
		await expect(leaving).rejects.toBe('bye');
		slots.release('a');
		await staying;
		slots.release('a');
		expect(slots.size).toBe(0);
		// a signal aborted already is refused before the wait begins
		slots.tryTake('a');
		await expect(slots.wait('a', AbortSignal.abort('before'), 10_000, timedOut)).rejects.toBe('before');
		slots.release('a');
		expect(slots.size).toBe(0);
	});

	it('stops listening to a signal once its wait is granted', async () => {
		const slots = new OriginSlots(1);
		const controller = new AbortController();
		let listeners = 0;
		const signal = controller.signal;
		const add = signal.addEventListener.bind(signal);
		const remove = signal.removeEventListener.bind(signal);
		signal.addEventListener = ((...args: Parameters<typeof add>) => {
			listeners++;
			add(...args);
		}) as typeof add;
		signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
			listeners--;
			remove(...args);
		}) as typeof remove;
		slots.tryTake('a');
		const waiting = slots.wait('a', signal, 10_000, timedOut);
		expect(listeners).toBe(1);
		slots.release('a');
		await waiting;
		// an app-wide signal would otherwise gather a listener for every request that waited
		expect(listeners).toBe(0);
		slots.release('a');
	});

	it('fails a wait after its time limit with the error it is given, holding nothing', async () => {
		const slots = new OriginSlots(1);
		slots.tryTake('a');
		await expect(slots.wait('a', undefined, 20, timedOut)).rejects.toThrow('timed out');
		slots.release('a');
		expect(slots.size).toBe(0);
	});

	it('forgets an origin once nothing runs or waits there', async () => {
		const slots = new OriginSlots(1);
		for (let i = 0; i < 1000; i++) {
			expect(slots.tryTake(`o${i}`)).toBe(true);
			slots.release(`o${i}`);
		}
		expect(slots.size).toBe(0);
		slots.tryTake('a');
		const waiting = slots.wait('a', undefined, 10_000, timedOut);
		slots.release('a');
		await waiting;
		expect(slots.size).toBe(1);
		slots.release('a');
		expect(slots.size).toBe(0);
	});
});
