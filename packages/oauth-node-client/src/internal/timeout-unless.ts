import type { EventEmitter } from 'node:events';

/**
 * runs `onTimeout` after `ms` milliseconds unless `emitter` emits `event`, or 'close', first: the
 * timer and both listeners go with whichever comes first. returns the timer (to unref).
 */
export const timeoutUnless = (
	emitter: EventEmitter,
	event: string,
	ms: number,
	onTimeout: () => void,
): ReturnType<typeof setTimeout> => {
	const timer = setTimeout(onTimeout, ms);
	const clear = () => {
		clearTimeout(timer);
		emitter.off(event, clear);
		emitter.off('close', clear);
	};
	emitter.once(event, clear);
	emitter.once('close', clear);
	return timer;
};
