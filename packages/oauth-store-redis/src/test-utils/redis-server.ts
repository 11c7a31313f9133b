import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis, type RedisOptions } from 'ioredis';
// the lowest ioredis the peer range takes (its `import { Redis }`, the README's, came in 5.2.5)
import { Redis as RedisLowest } from 'ioredis-lowest';
import { Redis as Redis6 } from 'ioredis6';

/** the Debian package's binary, which the root vitest setup installs when it is missing (scripts/test-services). */
const REDIS_SERVER = 'redis-server';
/** how long a fresh server may take to answer PING (it takes ~0.1 s here). */
const START_TIMEOUT_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** a free loopback port: listen on port 0, read it, close. */
export const freePort = (): Promise<number> =>
	new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => {
				if (address !== null && typeof address === 'object') resolve(address.port);
				else reject(new Error('could not read the port of a listening socket'));
			});
		});
	});

/**
 * whether the Redis server on `port` is the process `pid`: its `INFO server` names that pid. a
 * PONG alone could come from another test file's server that took the port between `freePort`
 * closing it and our child binding it (then ours exits with EADDRINUSE, and the tests would run,
 * and stop, restart or freeze "their" server, against the other one).
 */
const answersAs = (port: number, pid: number | undefined): Promise<boolean> =>
	new Promise((resolve) => {
		const socket = createConnection({ host: '127.0.0.1', port });
		let reply = '';
		const done = (ok: boolean): void => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(500, () => done(false));
		socket.once('error', () => done(false));
		socket.once('connect', () => socket.write('*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n'));
		socket.on('data', (chunk) => {
			reply += chunk.toString();
			if (!reply.startsWith('$')) return done(false);
			const found = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
			if (found !== null) done(Number(found[1]) === pid);
		});
	});

/** a redis-server child process of this test file, on 127.0.0.1. */
export interface SpawnedRedis {
	/** `redis://127.0.0.1:<port>`. */
	readonly url: string;
	readonly port: number;
	/** the child's pid while it runs, else undefined. */
	readonly pid: number | undefined;
	/** stops it by its pid (SIGTERM, or SIGKILL for a crash) and waits for it to exit. */
	stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
	/** starts it again on the same port (with the same data when `persistent`); nothing if it runs. */
	start(): Promise<void>;
	/** stops it and removes its data directory. */
	close(): Promise<void>;
}

/** options for `spawnRedisServer`. */
export interface SpawnRedisOptions {
	/** keep the data across stop/start (an append-only file, fsynced on every write). */
	persistent?: boolean;
	/** more `redis-server` arguments, e.g. `['--replicaof', '127.0.0.1', '6379']`. */
	args?: readonly string[];
}

/**
 * starts a throwaway `redis-server` on a free loopback port, without persistence unless asked,
 * and waits until it answers as that process (INFO names its pid). fails with a clear message when redis-server is not installed.
 */
export const spawnRedisServer = async (options: SpawnRedisOptions = {}): Promise<SpawnedRedis> => {
	// the port is free when freePort closes it, and may be taken (by another test file's server,
	// proxy or listener) before redis-server binds it: then ours exits, and a fresh port is tried
	for (let attempt = 1; ; attempt++) {
		try {
			return await spawnRedisServerOn(await freePort(), options);
		} catch (error) {
			if (attempt === 3 || !/Address already in use/.test(String((error as Error)?.message))) throw error;
		}
	}
};

const spawnRedisServerOn = async (port: number, options: SpawnRedisOptions): Promise<SpawnedRedis> => {
	const dir = mkdtempSync(join(tmpdir(), 'atcute-oauth-redis-'));
	const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
	args.push(
		...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
		...(options.args ?? []),
	);

	let child: ChildProcess | undefined;
	let exited: Promise<void> = Promise.resolve();
	// a test runner that dies must not leave our server behind
	const killOnExit = (): void => {
		if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
	};
	process.once('exit', killOnExit);

	const running = (): boolean =>
		child?.pid !== undefined && child.exitCode === null && child.signalCode === null;

	const start = async (): Promise<void> => {
		if (running()) return;
		const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		child = proc;
		let output = '';
		const collect = (chunk: Buffer): void => {
			output = (output + chunk.toString()).slice(-4000);
		};
		proc.stdout?.on('data', collect);
		proc.stderr?.on('data', collect);
		let failure: Error | undefined;
		exited = new Promise((resolve) => {
			proc.once('error', (err: NodeJS.ErrnoException) => {
				failure =
					err.code === 'ENOENT'
						? new Error(
								'redis-server is not on PATH: install it with `apt-get install -y redis-server` (`pnpm test` does, as root)',
							)
						: err;
				resolve();
			});
			proc.once('exit', (code, signal) => {
				failure ??= new Error(`redis-server exited (${signal ?? code}): ${output}`);
				resolve();
			});
		});

		const deadline = Date.now() + START_TIMEOUT_MS;
		while (!(await answersAs(port, proc.pid))) {
			if (failure !== undefined) throw failure;
			if (Date.now() > deadline) {
				killOnExit();
				throw new Error(
					`redis-server (pid ${proc.pid}) did not answer on port ${port} within ${START_TIMEOUT_MS} ms: ${output}`,
				);
			}
			await sleep(20);
		}
	};

	const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
		if (running()) process.kill(child!.pid!, signal);
		await exited;
	};

	try {
		await start();
	} catch (error) {
		// a server that never came up leaves nothing behind: no child, no exit hook, no directory
		await stop('SIGKILL');
		process.off('exit', killOnExit);
		rmSync(dir, { recursive: true, force: true });
		throw error;
	}
	return {
		url: `redis://127.0.0.1:${port}`,
		port,
		get pid() {
			return running() ? child?.pid : undefined;
		},
		stop,
		start,
		close: async () => {
			await stop();
			process.off('exit', killOnExit);
			rmSync(dir, { recursive: true, force: true });
		},
	};
};

/** the Redis the tests use: CI's (`REDIS_URL`), or one of our own. */
export interface TestRedis {
	readonly url: string;
	/** stops our own server, if we started one; CI's is left alone. */
	close(): Promise<void>;
}

/** `REDIS_URL` when set (CI), else a redis-server of our own. */
export const useTestRedis = async (): Promise<TestRedis> => {
	const url = process.env.REDIS_URL;
	if (url) return { url, close: async () => {} };
	const server = await spawnRedisServer();
	return { url: server.url, close: () => server.close() };
};

/** a key prefix no other test file or run shares. */
export const uniquePrefix = (label: string): string => `atcute-oauth-test:${label}:${randomUUID()}:`;

/**
 * an ioredis client for tests, with ioredis's defaults but the one the README asks of a store's
 * client (`autoResendUnfulfilledCommands: false`); quiet, since connection errors are what some
 * tests cause and ioredis prints them when nobody listens.
 */
export const connect = (url: string, options: RedisOptions = {}): Redis => {
	const redis = new Redis(url, { autoResendUnfulfilledCommands: false, ...options });
	redis.on('error', () => {});
	return redis;
};

/** `connect` on ioredis 6, the other major the peer range takes, seen through the ioredis 5 types. */
export const connect6 = (url: string, options: { protocol?: 2 | 3 } = {}): Redis => {
	const redis = new Redis6(url, { autoResendUnfulfilledCommands: false, ...options });
	redis.on('error', () => {});
	return redis as unknown as Redis;
};

/** `connect` on the lowest ioredis the peer range takes (`ioredis-lowest`), seen through the newest 5's types. */
export const connectLowest = (url: string): Redis => {
	const redis = new RedisLowest(url, { autoResendUnfulfilledCommands: false });
	redis.on('error', () => {});
	return redis as unknown as Redis;
};

/**
 * each ioredis the packages are tested on, with its `connect`: the conformance suites run on each,
 * the lowest the peer range takes included (a range promises its lowest version too).
 */
export const IOREDIS_MAJORS: readonly (readonly [string, (url: string) => Redis])[] = [
	['ioredis 5', connect],
	['ioredis 6', connect6],
	['ioredis 5 (lowest allowed)', connectLowest],
];

/** every key under `prefix` (a full SCAN), sorted. */
export const keysUnder = async (redis: Redis, prefix: string): Promise<string[]> => {
	const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
	const found = new Set<string>();
	let cursor = '0';
	do {
		const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
		cursor = next;
		for (const key of keys) found.add(key);
	} while (cursor !== '0');
	return [...found].sort();
};

/** removes every key under `prefix`, for test cleanup. */
export const removeKeys = async (redis: Redis, prefix: string): Promise<void> => {
	const keys = await keysUnder(redis, prefix);
	for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
};
