// what a burst of entries that expire within the same second costs a MemoryStore's writes: states
// of a sign-in rush, or a cache filled at start-up with one ttl. every key lands in one
// one-second bucket of the store's expiry wheel, so what this measures is how that bucket grows.
// each `set` is timed alone (wall); a step that a GC pause overlapped is reported apart, since
// allocating the keys themselves brings those. run: pnpm bench expiry-burst
// (BENCH_BURST_SIZE changes the burst, default 300,000)
import { MemoryStore } from '@atcute/oauth-node-client';

import { watchGcPauses } from './lib/gc-pauses.mjs';

const SIZE = Number(process.env.BENCH_BURST_SIZE ?? 300_000);
// the powers of two where a single `Set` holding the whole bucket would grow (rehash into a table
// twice the size): the steps to watch
const GROWTH_POINTS = [16_384, 65_536, 131_072, 262_144].filter((n) => n < SIZE);

const keys = Array.from({ length: SIZE }, (_, i) => `state-${i.toString(36).padStart(8, '0')}`);
const value = { iss: 'https://bsky.social', verifier: 'v'.repeat(43) };
// a fixed clock: the whole burst falls within one second, and nothing expires during it
const now = 1_800_000_000_000;
const store = new MemoryStore({ now: () => now });

const gcPauses = watchGcPauses();
const starts = new Float64Array(SIZE);
const ends = new Float64Array(SIZE);
for (let i = 0; i < SIZE; i++) {
	starts[i] = performance.now();
	store.set(keys[i], value, { expiresAt: now + 600_000 });
	ends[i] = performance.now();
}
const overlapsGc = await gcPauses.stop();
let worstClean = 0;
let worstCleanAt = -1;
let overMs = 0;
let overMsWithGc = 0;
for (let i = 0; i < SIZE; i++) {
	const ms = ends[i] - starts[i];
	const gc = ms > 1 || ms > worstClean ? overlapsGc(starts[i], ends[i]) : false;
	if (ms > 1) {
		if (gc) overMsWithGc++;
		else overMs++;
	}
	if (ms > worstClean && !gc) {
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
