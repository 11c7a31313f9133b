// the garbage collection pauses of a stretch of a bench, so a timed step that one overlapped can be
// reported apart from the steps' own work.
import { PerformanceObserver } from 'node:perf_hooks';

/**
 * starts recording GC pauses; `stop()` (async: node reports them on a later turn of the event
 * loop) ends the recording and resolves to `overlaps(start, end)`, whether a recorded pause
 * overlapped that span of `performance.now()` times.
 */
export const watchGcPauses = () => {
	const pauses = [];
	const observer = new PerformanceObserver((list) => pauses.push(...list.getEntries()));
	observer.observe({ entryTypes: ['gc'] });
	return {
		stop: async () => {
			await new Promise((resolve) => setTimeout(resolve, 50));
			observer.disconnect();
			return (start, end) => pauses.some((gc) => gc.startTime < end && gc.startTime + gc.duration > start);
		},
	};
};
