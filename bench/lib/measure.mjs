// shared measuring for every bench file: wall time from mitata's sampler, CPU time from
// process.cpuUsage over a fixed loop. CPU counts the libuv threads too, where WebCrypto signs,
// so it is the honest cost of an operation; wall time is what one awaiting caller sees.
import { measure } from 'mitata';

const CPU_ITERATIONS = Number(process.env.BENCH_CPU_ITERATIONS ?? 4000);

/**
 * measures one async or sync operation; returns ns per op. `cpuIterations` sets the length of
 * the CPU loop (network round trips want fewer); `quick` samples wall time for less long.
 */
export const measureOp = async (name, fn, options = {}) => {
	const { cpuIterations = CPU_ITERATIONS, quick = false } = options;
	const stats = await measure(
		fn,
		quick ? { min_cpu_time: 200e6, max_samples: 200 } : { min_cpu_time: 500e6 },
	);

	const warmup = Math.min(200, cpuIterations);
	for (let i = 0; i < warmup; i++) await fn();
	const start = process.cpuUsage();
	for (let i = 0; i < cpuIterations; i++) await fn();
	const used = process.cpuUsage(start);

	return {
		name,
		wallNs: stats.avg,
		p99Ns: stats.p99,
		cpuNs: ((used.user + used.system) * 1000) / cpuIterations,
	};
};

const us = (ns) => `${(ns / 1000).toFixed(2)} µs`;

/** prints rows with their wall and CPU time, and both as multiples of the baseline row. */
export const printTable = (title, rows, baselineName) => {
	const base = rows.find((row) => row.name === baselineName);
	console.log(`\n${title}  (ratios against: ${baselineName})`);
	console.table(
		Object.fromEntries(
			rows.map((row) => [
				row.name,
				{
					'wall avg': us(row.wallNs),
					'wall p99': us(row.p99Ns),
					cpu: us(row.cpuNs),
					'wall ×': (row.wallNs / base.wallNs).toFixed(2),
					'cpu ×': (row.cpuNs / base.cpuNs).toFixed(2),
				},
			]),
		),
	);
};
