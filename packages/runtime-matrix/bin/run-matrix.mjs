#!/usr/bin/env node
// `pnpm test:runtimes`: the runtime-neutral suite (src/suite) under each runtime the packages
// promise. this Node (20 here), Node 20.19.0 (the engines floor), 22 and 24, Bun and Deno run
// src/run-suite.mjs against the built packages; workerd runs the core's tests in a bundled
// worker at old and current compatibility dates, and the facade's with nodejs_compat; vitest runs
// the Node transport's and the PostgreSQL store's own tests under Node 24 (see
// TRANSPORT_TEST_FILTERS, POSTGRES_PROJECTS) and the SQLite stores' under Node 22 (nodeSqliteFilters). each lane gets
// its own test server (in this process) and temp directory; the server lanes share one
// redis-server and one PostgreSQL (a database per lane), started here and stopped by their pids.
//
// prints one line per runtime, then `N passed, N failed`; writes .ci/out/runtimes.json; exits 1
// on any failure. options: --only <lane,lane> (e.g. --only bun,deno), --filter <test name part>.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installRuntime } from '../scripts/install-runtime.mjs';
import { startControlServer } from '../src/host/control-server.mjs';
import { startPostgresServer } from '../src/host/postgres-server.mjs';
import { startRedisServer } from '../src/host/redis-server.mjs';
import { bundleWorker, runInWorkerd } from '../src/host/workerd.mjs';

const packageDir = fileURLToPath(new URL('../', import.meta.url));
const repoRoot = join(packageDir, '..', '..');
const suiteEntry = join(packageDir, 'src', 'run-suite.mjs');
/** the worker bundles: the core alone, and the core plus the facade (for nodejs_compat). */
const workerEntries = {
	core: join(packageDir, 'src', 'worker.mjs'),
	facade: join(packageDir, 'src', 'worker-facade.mjs'),
};

/** how long one lane may run before it is stopped and counted as failed, in milliseconds. */
const LANE_TIMEOUT_MS = 180_000;
/** lanes run at once: the machine has 2 cores, and each lane waits on the test server a good part of the time. */
const CONCURRENCY = 3;
/**
 * old Workers compatibility dates: before workerd knew `fetch`'s `cache` option at all, and
 * before it took `cache: 'no-cache'` (2025-08-07); the current date is the binary's own.
 */
const OLD_COMPATIBILITY_DATES = ['2024-09-01', '2024-12-01'];

const { values: args } = parseArgs({
	options: { only: { type: 'string' }, filter: { type: 'string' } },
});

const started = performance.now();
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** stops the run at once with one line that says what is missing. */
const fatal = (err) => {
	console.error(`test:runtimes: ${err instanceof Error ? err.message : err}`);
	process.exit(1);
};

let binaries;
try {
	binaries = installRuntime({ log: (line) => console.log(line) });
} catch (err) {
	fatal(err);
}
const workerdDate = /(\d{4}-\d{2}-\d{2})/.exec(
	execFileSync(binaries.workerd, ['--version'], { encoding: 'utf8' }),
)[1];

/** the compatibility date from which workerd turns `nodejs_compat` on by default. */
const NODEJS_COMPAT_DEFAULT_SINCE = '2026-08-04';

/** the lane of the Node that runs this script: `node20`, say. */
const systemNode = `node${process.versions.node.split('.')[0]}`;
/** a server runtime's lane: the command that runs src/run-suite.mjs. */
const serverLane = (name, command) => ({ name, kind: 'server', command });
/**
 * the facade's Node transport's own tests (node:http, sockets, TLS, proxies), run by vitest under
 * another Node: it is the one part whose behaviour follows node:http's, which changes between
 * majors (Node 24 pools the socket of a request destroyed before it had one; 20 and 22 close it).
 * the newest Node only: about 35 s of CI, where 22 has behaved as 20 does.
 */
const TRANSPORT_TEST_FILTERS = [
	'packages/oauth-node-client/src/node-fetch-',
	'packages/oauth-node-client/src/create-node-fetch.test.ts',
	'packages/oauth-node-client/src/internal/',
];
/**
 * the SQLite store's own tests, and those of the encrypted store that run on SQLite, by vitest
 * under Node 22: there better-sqlite3 (built for this Node) does not load, so the store and the
 * tests' raw connections run on node:sqlite's DatabaseSync, which Node 20 lacks (its tests see a
 * look-alike over better-sqlite3). the files named `*.better-sqlite3.test.ts` are about that driver
 * alone; the encrypted store's other tests (its options, its key tool) hold nothing of SQLite's
 * and run under Node 20 already (about 20 s of this lane).
 */
const NODE_SQLITE_PROJECTS = ['oauth-store-sqlite', 'oauth-store-encrypted'];
/** a test file that runs on SQLite: it imports the SQLite store's sources, or the encrypted store's test backends (SQLite among them). */
const RUNS_ON_SQLITE = /oauth-store-sqlite\/src\/|internal\/test-backends\.ts/;
const nodeSqliteFilters = () => [
	'packages/oauth-store-sqlite/',
	...['src', 'test'].flatMap((folder) => {
		const dir = join(repoRoot, 'packages', 'oauth-store-encrypted', folder);
		return readdirSync(dir, { recursive: true, encoding: 'utf8' })
			.filter(
				(file) => file.endsWith('.test.ts') && RUNS_ON_SQLITE.test(readFileSync(join(dir, file), 'utf8')),
			)
			.map((file) => relative(repoRoot, join(dir, file)));
	}),
];
/**
 * the PostgreSQL store and lock's own tests (pg's sockets, a server restarted and backends
 * terminated under them, child processes), run by vitest under the newest Node too: about 40 s,
 * beside the other lanes. the suite's lanes run the store under every Node, but not its faults.
 */
const POSTGRES_PROJECTS = ['oauth-store-postgres'];
const BETTER_SQLITE3_ONLY = '**/*.better-sqlite3.test.ts';
const lanes = [
	// first: the longest lanes, run beside the others
	{
		name: 'node24 (transport tests)',
		kind: 'vitest',
		node: binaries.node24,
		projects: ['oauth-node-client'],
		filters: TRANSPORT_TEST_FILTERS,
	},
	{
		name: 'node22 (node:sqlite store tests)',
		kind: 'vitest',
		node: binaries.node22,
		projects: NODE_SQLITE_PROJECTS,
		filters: nodeSqliteFilters(),
		exclude: [BETTER_SQLITE3_ONLY],
	},
	{
		name: 'node24 (PostgreSQL store tests)',
		kind: 'vitest',
		node: binaries.node24,
		projects: POSTGRES_PROJECTS,
	},
	// this Node (the system's), and the oldest Node the packages' engines allow
	serverLane(systemNode, [process.execPath, suiteEntry]),
	serverLane('node20.19', [binaries.node20, suiteEntry]),
	// the newer majors, but the one this Node is (run on Node 22, a second `node22` lane would only
	// repeat the first, and lanes are told apart by name: their databases, their lines)
	...[
		['node22', binaries.node22],
		['node24', binaries.node24],
	]
		.filter(([name]) => name !== systemNode)
		.map(([name, node]) => serverLane(name, [node, suiteEntry])),
	serverLane('bun', [binaries.bun, suiteEntry]),
	// the permissions an app of this kind needs: loopback servers, its settings, files (SQLite,
	// the seed's .env.local); nothing more, so that the README's list stays true
	serverLane('deno', [
		binaries.deno,
		'run',
		'--allow-net',
		'--allow-env',
		'--allow-read',
		'--allow-write',
		suiteEntry,
	]),
	// without Node compatibility: from 2026-08-04 on it is on by default, and only the
	// `no_nodejs_compat` flag turns it off
	...[...OLD_COMPATIBILITY_DATES, workerdDate].map((compatibilityDate) => ({
		name: `workerd@${compatibilityDate}`,
		kind: 'workerd',
		bundle: 'core',
		compatibilityDate,
		compatibilityFlags: compatibilityDate >= NODEJS_COMPAT_DEFAULT_SINCE ? ['no_nodejs_compat'] : [],
	})),
	// the facade too, where Workers offer node:crypto
	...[OLD_COMPATIBILITY_DATES[0], workerdDate].map((compatibilityDate) => ({
		name: `workerd+nodejs_compat@${compatibilityDate}`,
		kind: 'workerd',
		bundle: 'facade',
		compatibilityDate,
		compatibilityFlags: ['nodejs_compat'],
	})),
].filter((lane) => !args.only || args.only.split(',').some((only) => lane.name.startsWith(only)));

const needsServers = lanes.some((lane) => lane.kind === 'server');
const serversStarted = performance.now();
/** starts both servers side by side; when one fails, stops the other (by its pid) and stops the run. */
const startServers = async () => {
	const started = await Promise.allSettled([startRedisServer(), startPostgresServer()]);
	const failure = started.find((result) => result.status === 'rejected');
	if (failure === undefined) return started.map((result) => result.value);
	await Promise.all(started.map((result) => result.value?.stop()));
	fatal(failure.reason);
};
/** the processes the lanes run (runtimes, vitest, workerd, esbuild) while they run. */
const laneProcesses = new Set();
/** notes a lane's process, until it exits. */
const track = (child) => {
	laneProcesses.add(child);
	child.once('exit', () => laneProcesses.delete(child));
};
/** set once a signal asked the run to stop: no lane starts after it. */
let stopping = false;
/** the servers, once started (or their start fails, which ends the run). */
const serversStarting = needsServers ? startServers() : Promise.resolve([]);
let workDir;
// a run stopped by a signal (Ctrl-C, a CI job cancelled) stops its lanes and its servers, and
// its folders go (PostgreSQL's data among them): 'exit' hooks do not run when a signal ends the
// process, and a lane left running would go on without its servers. then the signal ends it
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.once(signal, async () => {
		stopping = true;
		for (const child of laneProcesses) child.kill(signal);
		// servers still starting are waited for (a second at most), then stopped
		const servers = await serversStarting;
		await Promise.allSettled([
			...servers.map((server) => server.stop()),
			workDir && rm(workDir, { recursive: true, force: true }),
		]);
		process.kill(process.pid, signal);
	});
}
const [redis, postgres] = await serversStarting;
if (needsServers) {
	console.log(
		`redis ${redis.version}, PostgreSQL ${postgres.version}: started in ${seconds(serversStarted)}`,
	);
}
// made once the servers run: a run that fatal() stops leaves no folder behind
workDir = await mkdtemp(join(tmpdir(), 'runtime-matrix-'));

/**
 * starts a lane's process, its output kept (`output.stdout`, `output.stderr`) and the process
 * killed past LANE_TIMEOUT_MS; `stopTimer()` once it is done.
 */
const startLaneProcess = (command, args, options) => {
	const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
	track(child);
	const output = { stdout: '', stderr: '' };
	child.stdout.on('data', (chunk) => {
		output.stdout += chunk;
	});
	child.stderr.on('data', (chunk) => {
		output.stderr += chunk;
	});
	const timer = setTimeout(() => process.kill(child.pid, 'SIGKILL'), LANE_TIMEOUT_MS);
	return { child, output, stopTimer: () => clearTimeout(timer) };
};

/** runs a server lane's command; resolves `{ runtime, results }` from its MATRIX_RESULT line. */
const runServerLane = (lane, config) =>
	new Promise((resolve) => {
		const [command, ...rest] = lane.command;
		const { child, output, stopTimer } = startLaneProcess(command, rest, {
			cwd: packageDir,
			env: { ...process.env, MATRIX_CONFIG: JSON.stringify(config), NO_COLOR: '1' },
		});
		const fail = (why) => ({
			runtime: { name: lane.name, version: 'unknown' },
			results: [
				{
					name: 'run the suite',
					ok: false,
					ms: 0,
					error: `${why}\n${output.stdout}\n${output.stderr}`.trim(),
				},
			],
		});
		child.once('error', (err) => {
			stopTimer();
			resolve(fail(`could not start ${command}: ${err.message}`));
		});
		child.once('close', (code, signal) => {
			stopTimer();
			const line = output.stdout.split('\n').find((text) => text.startsWith('MATRIX_RESULT '));
			if (line === undefined) resolve(fail(`exited with ${signal ?? code} and no result`));
			else resolve(JSON.parse(line.slice('MATRIX_RESULT '.length)));
		});
	});

/**
 * runs a vitest lane: vitest itself under the lane's Node, its JSON report read into results (a
 * test that did not pass, skipped included, is a failure).
 */
const runVitestLane = (lane, tmpDir) =>
	new Promise((resolve) => {
		const report = join(tmpDir, 'vitest.json');
		const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
		const filter = args.filter ? ['-t', args.filter] : [];
		const { child, output, stopTimer } = startLaneProcess(
			lane.node,
			[
				vitest,
				'run',
				...lane.projects.flatMap((project) => ['--project', project]),
				...(lane.exclude ?? []).flatMap((pattern) => ['--exclude', pattern]),
				// two files at a time: three vitest lanes run at once beside the others (the root
				// config's three, for a run of its own, would make nine)
				'--maxWorkers=2',
				'--reporter=json',
				`--outputFile=${report}`,
				...filter,
				...(lane.filters ?? []),
			],
			{ cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } },
		);
		const version = execFileSync(lane.node, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
		const done = (results) => {
			stopTimer();
			resolve({ runtime: { name: lane.name, version }, results });
		};
		const fail = (why) =>
			done([
				{
					name: 'run vitest',
					ok: false,
					ms: 0,
					error: `${why}\n${(output.stdout + output.stderr).slice(-4000)}`.trim(),
				},
			]);
		child.once('error', (err) => fail(`could not start ${lane.node}: ${err.message}`));
		child.once('close', async (code, signal) => {
			let parsed;
			try {
				parsed = JSON.parse(await readFile(report, 'utf8'));
			} catch {
				return fail(`exited with ${signal ?? code} and no report`);
			}
			const results = parsed.testResults.flatMap((file) =>
				file.assertionResults
					// under --filter, the tests it leaves out are skipped by vitest: not failures then
					.filter((test) => !(args.filter && test.status === 'skipped'))
					.map((test) => ({
						name: `${relative(repoRoot, file.name)} > ${test.fullName}`,
						ok: test.status === 'passed',
						ms: Math.round(test.duration ?? 0),
						error:
							test.status === 'passed' ? undefined : (test.failureMessages ?? []).join('\n') || test.status,
					})),
			);
			// a file that failed to load has no tests: its error is a failure too
			for (const file of parsed.testResults) {
				if (file.status === 'failed' && file.assertionResults.length === 0) {
					results.push({
						name: relative(repoRoot, file.name),
						ok: false,
						ms: 0,
						error: file.message ?? 'failed',
					});
				}
			}
			// a filter may match none of this lane's tests (it names a suite test): nothing to count
			if (results.length === 0 && !args.filter) return fail(`exited with ${signal ?? code} and ran no test`);
			done(results);
		});
	});

const workerBundles = new Map();
/** bundles each worker once, for every workerd lane that runs it; resolves its file name in workDir. */
const bundleOnce = (name) => {
	if (!workerBundles.has(name)) {
		const module = `worker-${name}.mjs`;
		workerBundles.set(
			name,
			bundleWorker({
				esbuild: binaries.esbuild,
				entry: workerEntries[name],
				outFile: join(workDir, module),
				onSpawn: track,
			}).then(() => module),
		);
	}
	return workerBundles.get(name);
};

const runLane = async (lane) => {
	const laneStarted = performance.now();
	const control = await startControlServer();
	const tmpDir = await mkdtemp(join(workDir, `${lane.name.replace(/[^a-z0-9]/gi, '-')}-`));
	try {
		// a database of the lane's own: lanes run at once, each over the same table names
		const postgresUrl =
			lane.kind === 'server'
				? await postgres.createDatabase(`matrix_${lane.name.replace(/[^a-z0-9]/gi, '_')}`)
				: undefined;
		const config = {
			controlUrl: control.url,
			redisUrl: redis?.url,
			postgresUrl,
			tmpDir,
			filter: args.filter,
		};
		let outcome;
		if (lane.kind === 'vitest') {
			outcome = await runVitestLane(lane, tmpDir);
		} else if (lane.kind === 'server') {
			outcome = await runServerLane(lane, config);
			outcome.runtime = { name: lane.name, version: outcome.runtime.version };
		} else {
			let results;
			try {
				results = await runInWorkerd({
					workerd: binaries.workerd,
					dir: workDir,
					module: await bundleOnce(lane.bundle),
					compatibilityDate: lane.compatibilityDate,
					compatibilityFlags: lane.compatibilityFlags,
					body: config,
					timeoutMs: LANE_TIMEOUT_MS,
					onSpawn: track,
				});
			} catch (err) {
				results = [{ name: 'run the worker', ok: false, ms: 0, error: String(err?.stack ?? err) }];
			}
			outcome = { runtime: { name: lane.name, version: `workerd ${workerdDate}` }, results };
		}
		outcome.seconds = Number(((performance.now() - laneStarted) / 1000).toFixed(1));
		return outcome;
	} finally {
		await control.close();
	}
};

const outcomes = new Array(lanes.length);
let next = 0;
try {
	await Promise.all(
		Array.from({ length: Math.min(CONCURRENCY, lanes.length) }, async () => {
			while (!stopping && next < lanes.length) {
				const index = next++;
				outcomes[index] = await runLane(lanes[index]);
				// a lane a signal cut short has nothing to say
				if (stopping) break;
				const { runtime, results, seconds: took } = outcomes[index];
				const failed = results.filter((result) => !result.ok);
				console.log(
					`${runtime.name.padEnd(34)} ${runtime.version.padEnd(18)} ${results.length - failed.length} passed, ${failed.length} failed (${took} s)`,
				);
				for (const result of failed) {
					console.log(`  ✗ ${result.name}\n${result.error.replace(/^/gm, '      ')}`);
				}
			}
		}),
	);
} finally {
	// stopped by a signal: its handler stops the servers, removes the folders and ends the process,
	// with no report of lanes it cut short
	if (stopping) await new Promise(() => {});
	await Promise.all([redis?.stop(), postgres?.stop()]);
	await rm(workDir, { recursive: true, force: true });
}

const runtimes = outcomes.map(({ runtime, results, seconds: took }) => ({
	name: runtime.name,
	version: runtime.version,
	passed: results.filter((result) => result.ok).length,
	failed: results.filter((result) => !result.ok).length,
	seconds: took,
	tests: results,
}));
const passed = runtimes.reduce((sum, runtime) => sum + runtime.passed, 0);
const failed = runtimes.reduce((sum, runtime) => sum + runtime.failed, 0);
await mkdir(join(repoRoot, '.ci', 'out'), { recursive: true });
await writeFile(
	join(repoRoot, '.ci', 'out', 'runtimes.json'),
	`${JSON.stringify({ passed, failed, seconds: Number(seconds(started).split(' ')[0]), redis: redis?.version, postgres: postgres?.version, runtimes }, null, '\t')}\n`,
);
console.log(`runtimes: ${runtimes.length} in ${seconds(started)}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
