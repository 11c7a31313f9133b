// shared measuring for every bench file: wall time from mitata's sampler, CPU time from
// process.cpuUsage over a fixed loop. CPU counts the libuv threads too, where WebCrypto signs,
// so it is the honest cost of an operation; wall time is what one awaiting caller sees.
import { measure } from 'mitata';

const CPU_ITERATIONS = Number(process.env.BENCH_CPU_ITERATIONS ?? 4000);

/** measures one async or sync operation; returns ns per op. */
export const measureOp = async (name, fn) => {
	const stats = await measure(fn, { min_cpu_time: 500e6 });

	for (let i = 0; i < 200; i++) await fn();
	const start = process.cpuUsage();
	for (let i = 0; i < CPU_ITERATIONS; i++) await fn();
	const used = process.cpuUsage(start);

	return {
		name,
		wallNs: stats.avg,
		p99Ns: stats.p99,
		cpuNs: ((used.user + used.system) * 1000) / CPU_ITERATIONS,
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
