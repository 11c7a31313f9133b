// the stores at 1k, 100k (and 1M) sessions: get median/p99 (sampled alternately with a 1k store
// of the same kind, so the machine's load hits both alike), restore(did) on a random DID with no
// network call, the client CPU restore() plus a first authenticated call costs on a cold key over
// the same DID again (warm) and over other DIDs whose keys are cached, bytes per session, and the
// time each purge/sweep step holds the caller's thread; for the stores that run on the caller's
// thread, every operation's block while purges and WAL checkpoints go on (and, for MemoryStore,
// the worst single set while it was filled: where a hash table grows). blocks are wall time
// less the run-queue wait the shared machine adds (see thread-clock.mjs); `--stores=memory,sqlite`
// measures only the stores whose names match.
import { createECDH, randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { MemoryStore, OAuthClient } from '@atcute/oauth-node-client';

import { watchGcPauses } from './gc-pauses.mjs';
import { storeAdapters } from './store-adapters.mjs';
import { threadTimed } from './thread-clock.mjs';

const GET_SAMPLES = 20_000;
const RESTORE_SAMPLES = 2_000;
/**
 * cold calls in the cold/warm/cached CPU comparison, at most one per key of the pool, and how
 * many go in a chunk: 200 rounds, where 40 left the medians 30-80 µs apart from run to run.
 */
const COLD_SAMPLES = 10_000;
const CPU_CHUNK = 50;
const FILL_BATCH = 10_000;
/** operations timed on a blocking store's thread: get, set, a state's set, delete, purge (or get). */
const OP_COUNT = 25_000;

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

const tokenBytes = Buffer.alloc(1350);
const keyTexts = new WeakMap();
/**
 * a realistic session as the JSON text a store keeps: two ~900-character random tokens of its own
 * and a DPoP key. built as text in one go, so a million take seconds rather than minutes (one
 * random fill per session instead of two randomBytes calls and a stringify/parse round trip).
 */
const sessionText = (i, pool, expiresAt = Date.now() + 3_600_000) => {
	const key = pool[i % pool.length];
	let keyText = keyTexts.get(key);
	if (keyText === undefined) {
		keyText = JSON.stringify(key);
		keyTexts.set(key, keyText);
	}
	randomFillSync(tokenBytes);
	return `{"dpopKey":${keyText},"authMethod":{"method":"none"},"tokenSet":{"iss":"https://bsky.social","sub":"${didOf(i)}","aud":"https://morel.us-east.host.bsky.network","scope":"atproto transition:generic","access_token":"${tokenBytes.toString('base64url', 0, 675)}","refresh_token":"${tokenBytes.toString('base64url', 675)}","token_type":"DPoP","expires_at":${expiresAt}}}`;
};
/** the same session as an object, fresh strings throughout (as a store that parses JSON gives it). */
const sessionOf = (i, pool, expiresAt) => JSON.parse(sessionText(i, pool, expiresAt));

const fillSessions = async (opened, from, to, pool, expiresAt) => {
	for (let start = from; start < to; start += FILL_BATCH) {
		const entries = [];
		for (let i = start; i < Math.min(to, start + FILL_BATCH); i++) {
			entries.push([didOf(i), sessionText(i, pool), expiresAt]);
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
		under1ms: sorted.filter((ns) => ns <= 1e6).length,
	};
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** expired entries waiting to be purged or swept: 10 % of the sessions' count, at least 1,000. */
const expireBacklog = async (adapter, opened, n, pool, prefix) => {
	const expired = Math.max(1000, Math.floor(n / 10));
	if (adapter.purge === 'set') {
		for (let i = 0; i < expired; i++)
			opened.store.set(`${prefix}${i}`, sessionOf(i, pool), { expiresAt: Date.now() + 1 });
		// the memory store's wheel drops whole one-second buckets
		await sleep(1100);
	} else {
		const past = Date.now() - 60_000;
		for (let start = 0; start < expired; start += FILL_BATCH) {
			const entries = [];
			for (let i = start; i < Math.min(expired, start + FILL_BATCH); i++)
				entries.push([`${prefix}${i}`, sessionText(i, pool), past]);
			await opened.fill(entries);
		}
	}
	// the pages the fill wrote reach the main file first, so no step pays for the fill's checkpoint
	await opened.settle?.();
};

/**
 * times calls on the caller's thread by kind (thread-clock.mjs), noting those that a garbage
 * collection pause overlapped (counted apart, so the figures are the calls' own work) and, for
 * SQLite, those during which a WAL checkpoint copied frames to the main file (on this thread or
 * another). `stop()` summarises each kind and all of them.
 */
const watchSteps = (opened) => {
	const gcPauses = watchGcPauses();
	const steps = [];
	return {
		time: async (kind, fn) => {
			const before = opened.walState?.();
			const start = performance.now();
			const [times, result] = await threadTimed(fn);
			const end = performance.now();
			const after = opened.walState?.();
			const checkpoint = before !== undefined && after.backfilled > before.backfilled;
			steps.push({ kind, ...times, start, end, checkpoint });
			return result;
		},
		stop: async () => {
			const overlapsGc = await gcPauses.stop();
			for (const step of steps) step.gc = overlapsGc(step.start, step.end);
			const byKind = { all: steps.filter((step) => step.kind !== 'control') };
			for (const step of steps) {
				byKind[step.kind] ??= [];
				byKind[step.kind].push(step);
			}
			return Object.fromEntries(
				Object.entries(byKind).map(([kind, list]) => {
					const clean = list.filter((step) => !step.gc);
					const worst = (of) => of.reduce((max, step) => Math.max(max, step.own), 0);
					return [
						kind,
						{
							own: summary(clean.map((step) => step.own)),
							ownWithGc: summary(list.map((step) => step.own)),
							wall: summary(list.map((step) => step.wall)),
							gcSteps: list.length - clean.length,
							count: list.length,
							checkpointSteps: list.filter((step) => step.checkpoint).length,
							worstCheckpoint: worst(clean.filter((step) => step.checkpoint)),
							worstOther: worst(clean.filter((step) => !step.checkpoint)),
							// the five worst, for a look at what they have in common
							top: [...list]
								.sort((a, b) => b.own - a.own)
								.slice(0, 5)
								.map(
									(step) =>
										`${step.kind} ${us(step.own)} (wall ${us(step.wall)}, ${step.switches} switches${step.checkpoint ? ', checkpoint' : ''}${step.gc ? ', GC' : ''})`,
								),
						},
					];
				}),
			);
		},
	};
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
	// the same after every session was read once: a memory-mapped SQLite file pays a page fault
	// the first time each page is read (a process that has run a while has read most of them)
	let warm;
	if (adapter.blocking) {
		for (let i = 0; i < n; i++) await big.store.get(didOf(i));
		const smallWarm = [];
		const bigWarm = [];
		for (let i = 0; i < GET_SAMPLES; i++) {
			smallWarm.push((await timed(() => small.store.get(didOf(pick(1000)))))[0]);
			bigWarm.push((await timed(() => big.store.get(didOf(pick(n)))))[0]);
		}
		warm = { get: summary(bigWarm), get1k: summary(smallWarm) };
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
	for (let j = 0; j < Math.min(COLD_SAMPLES, slots); j++) {
		cold.push(didOf(j + slots * pick(Math.floor(n / slots))));
	}
	// V8 takes thousands of calls to settle on this path (the medians of a run's first 20 rounds
	// were twice its later ones), so another client, whose key cache is its own, runs it first:
	// 3,000 calls on sessions outside the cold set where the store has them
	const coldSet = new Set(cold);
	const others = Array.from({ length: 3000 }, () => {
		for (;;) {
			const did = didOf(pick(n));
			if (!coldSet.has(did) || coldSet.size >= n) return did;
		}
	});
	await restoreCpu(clientFor(big.store), others);
	const warmDid = others[0];
	await restoreCpu(fresh, Array(200).fill(warmDid));
	// rounds of three small chunks in turn: cold DIDs, the warm DID again, and the previous round's
	// cold DIDs (other sessions, keys now cached: what cold adds over them is the key). each kind
	// gets the median of its chunks' CPU per call: a major GC of the whole store's heap (100 ms and
	// more at 100k sessions) lands in one chunk in twenty, and in a mean it swamped the difference
	// (once putting the key's share at 288 µs, above the whole cold−warm difference of 152 µs);
	// scavenges, which the calls' own garbage causes, fall in every chunk and stay counted
	const coldChunks = [];
	const warmChunks = [];
	const cachedChunks = [];
	let previous;
	for (let start = 0; start < cold.length; start += CPU_CHUNK) {
		const chunk = cold.slice(start, start + CPU_CHUNK);
		coldChunks.push(await restoreCpu(fresh, chunk));
		warmChunks.push(await restoreCpu(fresh, Array(chunk.length).fill(warmDid)));
		if (previous) cachedChunks.push(await restoreCpu(fresh, previous));
		previous = chunk;
	}
	const coldCpu = summary(coldChunks).median;
	const warmCpu = summary(warmChunks).median;
	const cachedCpu = summary(cachedChunks).median;

	const bytes = (await big.bytes()) / n;

	// the worst purge/sweep step with 10 % of the sessions' count expired and waiting
	let purge;
	let ops;
	if (adapter.purge !== undefined) {
		await expireBacklog(adapter, big, n, pool, 'state-');
		const values = Array.from({ length: 500 }, (_, i) => sessionOf(i, pool));
		const watch = watchSteps(big);
		for (let i = 0; i < 5000; i++) {
			const value = values[i % values.length];
			const result = await watch.time(
				'step',
				adapter.purge === 'set' ? () => big.store.set(didOf(pick(n)), value) : () => big.store.purge(),
			);
			if (adapter.purge === 'purge' && result === 0) break;
		}
		purge = (await watch.stop()).step;
		console.log(`  ${adapter.name} ${label(n)}, worst purge/sweep steps: ${purge.top.join('; ')}`);

		// every operation of a store that runs on the caller's thread, with a backlog to purge
		if (adapter.blocking) {
			await expireBacklog(adapter, big, n, pool, 'old-state-');
			const opsWatch = watchSteps(big);
			// a control: work of a SQLite operation's length that touches no store (a session's JSON
			// parsed ten times, 30-50 µs), timed the same way. what it shows over 1 ms the machine
			// alone took from a call (another process's CPU that the run-queue wait missed, a
			// hypervisor's pause), so the stores' worst can be read against it
			const text = JSON.stringify(values[0]);
			for (let i = 0; i < OP_COUNT; i++) {
				const value = values[i % values.length];
				if (i % 5 === 0)
					await opsWatch.time('control', () => {
						for (let j = 0; j < 10; j++) JSON.parse(text);
					});
				switch (i % 5) {
					case 0:
						await opsWatch.time('get', () => big.store.get(didOf(pick(n))));
						break;
					case 1:
						await opsWatch.time('set', () => big.store.set(didOf(pick(n)), value));
						break;
					case 2:
						// a state: expires a second later, to be swept or purged during the run
						await opsWatch.time('set', () =>
							big.store.set(`op-${i}`, value, { expiresAt: Date.now() + 1000 }),
						);
						break;
					case 3:
						await opsWatch.time('delete', () => big.store.delete(`op-${i - 51}`));
						break;
					default:
						if (adapter.purge === 'purge') await opsWatch.time('purge', () => big.store.purge());
						else await opsWatch.time('get', () => big.store.get(didOf(pick(n))));
				}
				// an app's event loop turns between requests: timers (purge steps) and messages run
				if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
			}
			ops = await opsWatch.stop();
		}
	}

	return {
		get: summary(bigGets),
		get1k: summary(smallGets),
		warm,
		restore: summary(restores),
		extraCpu: coldCpu - warmCpu,
		keyCpu: coldCpu - cachedCpu,
		coldCpu,
		warmCpu,
		bytes,
		purge,
		ops,
	};
};

const us = (ns) => (ns === undefined ? 'n/a' : `${(ns / 1000).toFixed(1)} µs`);

/** runs the scale mode for `levels` (session counts); prints one table per store and the ratios. */
export const runStoreScale = async (context, levels) => {
	const pool = makeKeyPool(Math.min(20_000, Math.max(...levels)));
	const rows = [];
	const opRows = [];
	const only = process.argv
		.find((arg) => arg.startsWith('--stores='))
		?.slice('--stores='.length)
		.split(',');
	const chosen = storeAdapters(context).filter(
		(adapter) =>
			only === undefined || only.some((name) => adapter.name.toLowerCase().includes(name.toLowerCase())),
	);
	for (const adapter of chosen) {
		const small = await adapter.open('scale-1k-ref');
		await fillSessions(small, 0, 1000, pool);
		const results = [];
		for (const n of levels) {
			const big = await adapter.open(`scale-${label(n)}`);
			const fillStart = performance.now();
			const fillGcPauses = watchGcPauses();
			await fillSessions(big, 0, n, pool);
			const fillOverlapsGc = await fillGcPauses.stop();
			console.log(
				`  ${adapter.name} at ${label(n)}: filled in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`,
			);
			// a store that times its fill's writes (slowFills): the worst that no GC pause overlapped
			let fill;
			if (big.slowFills !== undefined) {
				const clean = big.slowFills.filter((set) => !fillOverlapsGc(set.start, set.end));
				fill = {
					worst: clean.reduce((max, set) => Math.max(max, set.own), 0),
					over1ms: clean.filter((set) => set.own > 1e6).length,
					withGc: big.slowFills.length - clean.length,
				};
				console.log(
					`  ${adapter.name} ${label(n)}, worst fill sets: ${[...clean]
						.sort((a, b) => b.own - a.own)
						.slice(0, 5)
						.map((set) => us(set.own))
						.join('; ')} (${fill.withGc} over 200 µs overlapped a GC)`,
				);
			}
			const result = await measureLevel(adapter, small, big, n, pool);
			results.push({ n, fill, ...result });
			await big.close();
			console.log(`  ${adapter.name} at ${label(n)}: done`);
		}
		await small.close();

		const first = results[0];
		for (const r of results) {
			for (const [kind, o] of Object.entries(r.ops ?? {})) {
				if (kind === 'all')
					console.log(`  ${adapter.name} ${label(r.n)}, worst operations: ${o.top.join('; ')}`);
				opRows.push([
					`${adapter.name} ${label(r.n)} ${kind}`,
					{
						median: us(o.own.median),
						p99: us(o.own.p99),
						'p99.9': us(o.own.p999),
						max: us(o.own.max),
						'max incl. GC': us(o.ownWithGc.max),
						'max wall': us(o.wall.max),
						'ops with GC': `${o.gcSteps}/${o.count}`,
						'ops during a checkpoint': o.checkpointSteps,
						'their max': us(o.worstCheckpoint),
						'max of the others': us(o.worstOther),
						'over 1 ms': o.own.count - o.own.under1ms,
					},
				]);
			}
			rows.push([
				`${adapter.name} ${label(r.n)}`,
				{
					'get median': us(r.get.median),
					'get p99': us(r.get.p99),
					'get ×1k (alternating)': (r.get.median / r.get1k.median).toFixed(2),
					'p99 ×1k': (r.get.p99 / r.get1k.p99).toFixed(2),
					'×1k, every session read once': r.warm
						? `${(r.warm.get.median / r.warm.get1k.median).toFixed(2)} (p99 ${(r.warm.get.p99 / r.warm.get1k.p99).toFixed(2)})`
						: 'n/a',
					'restore median': us(r.restore.median),
					'warm restore+call cpu': us(r.warmCpu),
					'cold−warm cpu': us(r.extraCpu),
					'cold−cached cpu': us(r.keyCpu),
					'bytes/session': Math.round(r.bytes),
					'purge step median': us(r.purge?.own.median),
					'p99.9': us(r.purge?.own.p999),
					worst: us(r.purge?.own.max),
					'worst incl. GC': us(r.purge?.ownWithGc.max),
					'steps with GC': r.purge ? `${r.purge.gcSteps}/${r.purge.count}` : 'n/a',
					'worst fill set': r.fill ? us(r.fill.worst) : 'n/a',
					'fill sets > 1 ms': r.fill ? r.fill.over1ms : 'n/a',
					[`restore ×${label(first.n)}`]: (r.restore.median / first.restore.median).toFixed(2),
				},
			]);
		}
	}
	console.log(
		`\nstores at scale (${levels.map(label).join(', ')} sessions; get sampled alternately with a 1k store; restore() with no network call)`,
	);
	console.table(Object.fromEntries(rows));
	if (opRows.length > 0) {
		console.log(
			`\nblocking stores: each operation's block of the caller's thread (wall less the run-queue wait of the shared machine), ${OP_COUNT} operations with a backlog of expired entries; GC-overlapped ones apart`,
		);
		console.table(Object.fromEntries(opRows));
	}
};
