// what a burst of entries that expire within the same second costs a MemoryStore's writes: states
// of a sign-in rush, or a cache filled at start-up with one ttl. every key lands in one
// one-second bucket of the store's expiry wheel, so what this measures is how that bucket grows.
// each `set` is timed alone (wall); a step that a GC pause overlapped is reported apart, since
// allocating the keys themselves brings those. run: pnpm bench expiry-burst
// (BENCH_BURST_SIZE changes the burst, default 300,000)
import { PerformanceObserver } from 'node:perf_hooks';

import { MemoryStore } from '@atcute/oauth-node-client';

const SIZE = Number(process.env.BENCH_BURST_SIZE ?? 300_000);
// the powers of two where a single `Set` holding the whole bucket would grow (rehash into a table
// twice the size): the steps to watch
const GROWTH_POINTS = [16_384, 65_536, 131_072, 262_144].filter((n) => n < SIZE);

const keys = Array.from({ length: SIZE }, (_, i) => `state-${i.toString(36).padStart(8, '0')}`);
const value = { iss: 'https://bsky.social', verifier: 'v'.repeat(43) };
// a fixed clock: the whole burst falls within one second, and nothing expires during it
const now = 1_800_000_000_000;
const store = new MemoryStore({ now: () => now });

const gcs = [];
const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
observer.observe({ entryTypes: ['gc'] });
const starts = new Float64Array(SIZE);
const ends = new Float64Array(SIZE);
for (let i = 0; i < SIZE; i++) {
	starts[i] = performance.now();
	store.set(keys[i], value, { expiresAt: now + 600_000 });
	ends[i] = performance.now();
}
// the observer reports on a later turn of the event loop
await new Promise((resolve) => setTimeout(resolve, 50));
observer.disconnect();

const overlapsGc = (i) => gcs.some((gc) => gc.startTime < ends[i] && gc.startTime + gc.duration > starts[i]);
let worstClean = 0;
let worstCleanAt = -1;
let overMs = 0;
let overMsWithGc = 0;
for (let i = 0; i < SIZE; i++) {
	const ms = ends[i] - starts[i];
	if (ms > 1) {
		if (overlapsGc(i)) overMsWithGc++;
		else overMs++;
	}
	if (ms > worstClean && !overlapsGc(i)) {
		worstClean = ms;
		worstCleanAt = i;
	}
}
console.log(`\n${SIZE.toLocaleString('en')} sets into a MemoryStore, all expiring within the same second`);
console.table({
	'MemoryStore set': {
		'worst, no GC overlapping (ms)': worstClean.toFixed(2),
		'at set #': worstCleanAt,
		'sets over 1 ms, no GC': overMs,
		'sets over 1 ms, a GC overlapping': overMsWithGc,
		...Object.fromEntries(GROWTH_POINTS.map((n) => [`set #${n} (ms)`, (ends[n] - starts[n]).toFixed(2)])),
	},
});
