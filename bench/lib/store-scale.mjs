// the stores at 1k, 100k (and 1M) sessions: get median/p99 (sampled alternately with a 1k store
// of the same kind, so the machine's load hits both alike), restore(did) on a random DID with no
// network call, the client CPU restore() plus a first authenticated call costs on a cold key over
// the same DID again (warm) and over other DIDs whose keys are cached, bytes per session, and the
// purge/sweep steps' CPU time (CPU, not wall: on a shared machine a step's wall time mostly
// measures the scheduler).
import { createECDH, randomBytes } from 'node:crypto';
import { PerformanceObserver, performance } from 'node:perf_hooks';

import { MemoryStore, OAuthClient } from '@atcute/oauth-node-client';

import { storeAdapters } from './store-adapters.mjs';

const GET_SAMPLES = 20_000;
const RESTORE_SAMPLES = 2_000;
const FILL_BATCH = 10_000;

// padded with '0', a digit no count's base-36 form starts with: padded with 'a', 10 and 370 gave
// the same DID (a batch upsert on PostgreSQL refuses a key twice, and a store held fewer sessions)
const didOf = (i) => `did:plc:${i.toString(36).padStart(24, '0')}`;
const pick = (n) => Math.floor(Math.random() * n);
const label = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

/**
 * DPoP keys for the sessions: generating a million takes a minute, so sessions share a pool.
 * made with ECDH, not as KeyObjects: on Node 20.20 a loop of `generateKeyPairSync` and
 * `export({ format: 'jwk' })` can hang for good (a collection during the export finalises an
 * earlier key-generation job, which waits on a mutex the export holds).
 */
const makeKeyPool = (size) =>
	Array.from({ length: size }, () => {
		const ecdh = createECDH('prime256v1');
		const point = ecdh.generateKeys();
		// the scalar without its leading zero bytes: a JWK's "d" is always 32 bytes
		const d = Buffer.concat([Buffer.alloc(32), ecdh.getPrivateKey()]).subarray(-32);
		const b64 = (bytes) => bytes.toString('base64url');
		return {
			kty: 'EC',
			crv: 'P-256',
			x: b64(point.subarray(1, 33)),
			y: b64(point.subarray(33)),
			d: b64(d),
			alg: 'ES256',
		};
	});

/** a realistic session: two ~900-character tokens of their own, a DPoP key, fresh strings throughout. */
const sessionOf = (i, pool, expiresAt = Date.now() + 3_600_000) =>
	JSON.parse(
		JSON.stringify({
			dpopKey: pool[i % pool.length],
			authMethod: { method: 'none' },
			tokenSet: {
				iss: 'https://bsky.social',
				sub: didOf(i),
				aud: 'https://morel.us-east.host.bsky.network',
				scope: 'atproto transition:generic',
				access_token: randomBytes(675).toString('base64url'),
				refresh_token: randomBytes(675).toString('base64url'),
				token_type: 'DPoP',
				expires_at: expiresAt,
			},
		}),
	);

const fillSessions = async (opened, from, to, pool, expiresAt) => {
	for (let start = from; start < to; start += FILL_BATCH) {
		const entries = [];
		for (let i = start; i < Math.min(to, start + FILL_BATCH); i++) {
			const session = sessionOf(i, pool);
			// keyed by the session's own `sub`, as the client stores it (one string, not two copies)
			entries.push([session.tokenSet.sub, session, expiresAt]);
		}
		await opened.fill(entries);
	}
};

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const summary = (samples) => {
	const sorted = Float64Array.from(samples).sort();
	return {
		median: quantile(sorted, 0.5),
		p99: quantile(sorted, 0.99),
		p999: quantile(sorted, 0.999),
		max: sorted[sorted.length - 1],
		count: sorted.length,
	};
};
/** CPU time of one call, in ns: a step's own work, whatever else the machine runs meanwhile. */
const cpuTimed = async (fn) => {
	const start = process.cpuUsage();
	const result = await fn();
	const used = process.cpuUsage(start);
	return [(used.user + used.system) * 1000, result];
};
const timed = async (fn) => {
	const start = process.hrtime.bigint();
	const result = await fn();
	return [Number(process.hrtime.bigint() - start), result];
};

const body = JSON.stringify({ did: didOf(0), handle: 'alice.test', active: true });
const instant = async () => new Response(body, { headers: { 'content-type': 'application/json' } });
const clientFor = (store) =>
	new OAuthClient({
		metadata: { redirect_uris: ['http://127.0.0.1/cb'], scope: 'atproto' },
		stores: { sessions: store, states: new MemoryStore() },
		actorResolver: { resolve: async () => ({}) },
		fetch: instant,
	});

/** client CPU per restore() + one authenticated call, in ns, over `dids`. */
const restoreCpu = async (oauth, dids) => {
	const start = process.cpuUsage();
	for (const did of dids) {
		const session = await oauth.restore(did);
		await (await session.handle('/xrpc/com.atproto.server.getSession')).text();
	}
	const used = process.cpuUsage(start);
	return ((used.user + used.system) * 1000) / dids.length;
};

const measureLevel = async (adapter, small, big, n, pool) => {
	// get, alternately on the 1k store and this one
	const smallGets = [];
	const bigGets = [];
	for (let i = 0; i < 2000; i++) {
		await small.store.get(didOf(pick(1000)));
		await big.store.get(didOf(pick(n)));
	}
	for (let i = 0; i < GET_SAMPLES; i++) {
		smallGets.push((await timed(() => small.store.get(didOf(pick(1000)))))[0]);
		bigGets.push((await timed(() => big.store.get(didOf(pick(n)))))[0]);
	}

	// restore(did) on a random DID: wall time, as a caller sees it
	const oauth = clientFor(big.store);
	for (let i = 0; i < 1000; i++) await oauth.restore(didOf(pick(n)));
	const restores = [];
	for (let i = 0; i < RESTORE_SAMPLES; i++)
		restores.push((await timed(() => oauth.restore(didOf(pick(n)))))[0]);

	// cold vs warm client CPU: a DID whose key is in no cache (each key slot once, past the
	// client's 1,000 cached keys) against the same DID again and again
	const fresh = clientFor(big.store);
	const cold = [];
	const slots = Math.min(pool.length, n);
	for (let j = 0; j < Math.min(RESTORE_SAMPLES, slots); j++) {
		cold.push(didOf(j + slots * pick(Math.floor(n / slots))));
	}
	// alternating chunks of cold and warm calls, so load and GC fall on both alike
	const warmDid = didOf(pick(n));
	await restoreCpu(fresh, Array(200).fill(warmDid));
	let coldCpu = 0;
	let warmCpu = 0;
	for (let start = 0; start < cold.length; start += 100) {
		const chunk = cold.slice(start, start + 100);
		coldCpu += (await restoreCpu(fresh, chunk)) * chunk.length;
		warmCpu += (await restoreCpu(fresh, Array(chunk.length).fill(warmDid))) * chunk.length;
	}
	coldCpu /= cold.length;
	warmCpu /= cold.length;
	// other sessions whose keys are cached (the last cold ones): what is left is the key's cost
	const cachedCpu = await restoreCpu(fresh, cold.slice(-Math.min(500, cold.length)));

	const bytes = (await big.bytes()) / n;

	// the worst purge/sweep step with 10 % of the sessions' count expired and waiting
	let purge;
	let purgeWithGc;
	let purgeGcSteps = 0;
	if (adapter.purge !== undefined) {
		const expired = Math.max(1000, Math.floor(n / 10));
		const past = Date.now() - 60_000;
		if (adapter.purge === 'set') {
			for (let i = 0; i < expired; i++)
				big.store.set(`state-${i}`, sessionOf(i, pool), { expiresAt: Date.now() + 1 });
			// the memory store's wheel drops whole one-second buckets
			await new Promise((resolve) => setTimeout(resolve, 1100));
		} else {
			const entries = [];
			for (let i = 0; i < expired; i++) entries.push([`state-${i}`, sessionOf(i, pool), past]);
			await big.fill(entries);
		}
		// the pages the fill wrote reach the main file first, so no step pays for the fill's checkpoint
		await big.settle?.();
		// garbage collection pauses land on whichever call is running: steps during which one ran
		// are counted apart, so the figure is the step's own work
		const gcs = [];
		const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
		observer.observe({ entryTypes: ['gc'] });
		const steps = [];
		const values = Array.from({ length: 500 }, (_, i) => sessionOf(i, pool));
		for (let i = 0; i < 5000; i++) {
			const value = values[i % values.length];
			const start = performance.now();
			const [ns, result] =
				adapter.purge === 'set'
					? await cpuTimed(() => big.store.set(didOf(pick(n)), value))
					: await cpuTimed(() => big.store.purge());
			steps.push({ ns, start, end: performance.now() });
			if (adapter.purge === 'purge' && result === 0) break;
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
		observer.disconnect();
		const clean = steps.filter(
			(step) => !gcs.some((gc) => gc.startTime < step.end && gc.startTime + gc.duration > step.start),
		);
		purgeWithGc = summary(steps.map((step) => step.ns));
		purgeGcSteps = steps.length - clean.length;
		steps.length = 0;
		steps.push(...clean.map((step) => step.ns));
		purge = summary(steps);
	}

	return {
		get: summary(bigGets),
		get1k: summary(smallGets),
		restore: summary(restores),
		extraCpu: coldCpu - warmCpu,
		keyCpu: coldCpu - cachedCpu,
		coldCpu,
		warmCpu,
		bytes,
		purge,
		purgeWithGc,
		purgeGcSteps,
	};
};

const us = (ns) => (ns === undefined ? 'n/a' : `${(ns / 1000).toFixed(1)} µs`);

/** runs the scale mode for `levels` (session counts); prints one table per store and the ratios. */
export const runStoreScale = async (context, levels) => {
	const pool = makeKeyPool(Math.min(20_000, Math.max(...levels)));
	const rows = [];
	for (const adapter of storeAdapters(context)) {
		const small = await adapter.open('scale-1k-ref');
		await fillSessions(small, 0, 1000, pool);
		const results = [];
		for (const n of levels) {
			const big = await adapter.open(`scale-${label(n)}`);
			await fillSessions(big, 0, n, pool);
			const result = await measureLevel(adapter, small, big, n, pool);
			results.push({ n, ...result });
			await big.close();
			console.log(`  ${adapter.name} at ${label(n)}: done`);
		}
		await small.close();

		const first = results[0];
		for (const r of results) {
			rows.push([
				`${adapter.name} ${label(r.n)}`,
				{
					'get median': us(r.get.median),
					'get p99': us(r.get.p99),
					'get ×1k (alternating)': (r.get.median / r.get1k.median).toFixed(2),
					'p99 ×1k': (r.get.p99 / r.get1k.p99).toFixed(2),
					'restore median': us(r.restore.median),
					'cold−warm cpu': us(r.extraCpu),
					'cold−cached cpu': us(r.keyCpu),
					'bytes/session': Math.round(r.bytes),
					'purge step cpu median': us(r.purge?.median),
					'p99.9': us(r.purge?.p999),
					worst: us(r.purge?.max),
					'worst incl. GC': us(r.purgeWithGc?.max),
					'steps with GC': r.purge ? `${r.purgeGcSteps}/${r.purgeGcSteps + r.purge.count}` : 'n/a',
					[`restore ×${label(first.n)}`]: (r.restore.median / first.restore.median).toFixed(2),
				},
			]);
		}
	}
	console.log(
		`\nstores at scale (${levels.map(label).join(', ')} sessions; get sampled alternately with a 1k store; restore() with no network call)`,
	);
	console.table(Object.fromEntries(rows));
};
