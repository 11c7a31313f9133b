import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createTlsMaterial, type TlsMaterial } from './create-tls-material.ts';
import { folderRemovedOnExit } from './internal/folder-removed-on-exit.ts';
import { readLines } from './internal/line-reader.ts';
import { findRuntime } from './runtime.ts';

/** an account to create: a handle under `.test`, and a password (default: a random one). */
export interface AccountSpec {
	handle: string;
	password?: string | undefined;
}

/** an account on the local PDS. */
export interface LocalAccount {
	handle: string;
	did: `did:plc:${string}`;
	password: string;
}

/** a request the PDS answered (with `traceRequests`). */
export interface PdsRequest {
	method: string;
	/** the path, without the query. */
	path: string;
	status: number;
	/** how long the PDS took, in milliseconds. */
	ms: number;
}

/** options for `startLocalNetwork`. */
export interface LocalNetworkOptions {
	/** the accounts to create; default one, `alice.test`, with a random password. */
	accounts?: readonly AccountSpec[] | undefined;
	/**
	 * host names the PDS resolves to 127.0.0.1 and trusts over https (through a throw-away CA):
	 * where a confidential client's metadata is served from. default `['client.e2e.internal']`.
	 * the name must not be `localhost`, an IP, nor under `.test`, `.local` or `.example`: the
	 * OAuth provider refuses those for a web client's redirect URIs.
	 */
	clientHosts?: readonly string[] | undefined;
	/** record every request the PDS answers in `requests`. default false. */
	traceRequests?: boolean | undefined;
	/**
	 * let the test move the PDS's clock (`setPdsClockOffset`, `advancePdsClock`): its process gets
	 * a preload that shifts `Date` by an offset, 0 at start. default false: the PDS runs untouched.
	 */
	steppableClock?: boolean | undefined;
	/** the PDS's log (pino JSON; sets `LOG_ENABLED=true`) and anything else it prints on stderr. */
	onLog?: ((line: string) => void) | undefined;
	/** more `PDS_*` settings for the reference PDS. */
	pdsEnv?: Readonly<Record<string, string>> | undefined;
	/** how long to wait for the PDS to be ready, in milliseconds; default 60 000. */
	timeout?: number | undefined;
}

/** a running local network. */
export interface LocalNetwork {
	/** the PDS, `http://localhost:<port>`: resource server and OAuth authorization server. */
	pdsUrl: string;
	/** the OAuth issuer (the PDS's own origin). */
	issuer: string;
	/** the in-memory PLC directory, `http://localhost:<port>`. */
	plcUrl: string;
	/** the accounts, as created. */
	accounts: readonly LocalAccount[];
	/** the certificate for `clientHosts` (which the PDS trusts), to serve client documents with. */
	tls: TlsMaterial;
	/** the PDS process. */
	pid: number;
	/** the Node version the PDS runs on. */
	nodeVersion: string;
	/** from spawning the process to ready (accounts created), in milliseconds. */
	startupMs: number;
	/** the requests the PDS answered so far (with `traceRequests`). */
	readonly requests: readonly PdsRequest[];
	/**
	 * waits until `requests` holds every request the PDS answered before this call, and returns
	 * it. a response the caller has received is in it.
	 */
	syncRequests(): Promise<readonly PdsRequest[]>;
	/** how far the PDS's clock runs ahead of this machine's (negative: behind), in milliseconds. */
	readonly pdsClockOffset: number;
	/**
	 * sets the PDS's clock to run `ms` milliseconds ahead of this machine's (negative: behind),
	 * with `steppableClock`. once it resolves, every request sent after sees the new time; move it
	 * with none in flight: the provider pads sign-in steps to a constant time by sleeping the
	 * difference of two `Date.now()` readings, so a step back of N ms during one stalls it N ms
	 * more. what follows it:
	 * `Date.now()`, `new Date()` and the HTTP `Date` header in the PDS process (and its PLC), so
	 * token, code and request expiry, jose's checks, the DPoP nonce. what does not:
	 * `performance.now()` and timers, so the provider's 10-minute client metadata cache.
	 * rejects with a `TypeError` when `ms` is not an integer, and without `steppableClock`.
	 */
	setPdsClockOffset(ms: number): Promise<void>;
	/** moves the PDS's clock `ms` milliseconds forward (negative: back); see `setPdsClockOffset`. */
	advancePdsClock(ms: number): Promise<void>;
	/** stops the PDS and PLC (by the process's pid) and deletes their data; idempotent. */
	close(): Promise<void>;
}

const DEFAULT_CLIENT_HOSTS = ['client.e2e.internal'];
const DEFAULT_TIMEOUT_MS = 60_000;
/** how long the PDS gets to stop cleanly before it is killed. */
const STOP_GRACE_MS = 5_000;
/** how much of the PDS's stderr to keep for an error message. */
const STDERR_TAIL = 40;

/**
 * starts the reference PDS (`@atproto/pds`, with its OAuth provider) and an in-memory PLC
 * directory in a child process under Node >= 22, on 127.0.0.1, and creates the accounts. about
 * 2-3 s. `close()` stops it and leaves nothing behind.
 * @throws {RuntimeNotInstalledError} when the runtime is not installed (the message says how)
 */
export const startLocalNetwork = async (options: LocalNetworkOptions = {}): Promise<LocalNetwork> => {
	const started = performance.now();
	const runtime = findRuntime();
	const clientHosts = options.clientHosts ?? DEFAULT_CLIENT_HOSTS;
	const accounts = (options.accounts ?? [{ handle: 'alice.test' }]).map((account) => ({
		handle: account.handle,
		password: account.password ?? randomBytes(12).toString('base64url'),
	}));
	const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;

	// one folder for everything: the PDS deletes it when it stops, the parent deletes it again
	const dir = mkdtempSync(join(tmpdir(), 'atcute-local-network-'));
	// a test runner that exits without close(), or a signal during the start, still leaves nothing
	// behind: the processes writing into the folder are killed first
	const folder = folderRemovedOnExit(dir);

	let tls: TlsMaterial;
	try {
		tls = await createTlsMaterial(join(dir, 'tls'), clientHosts, { onSpawn: folder.track });
	} catch (error) {
		folder.removeNow();
		throw error;
	}

	const env: NodeJS.ProcessEnv = { ...process.env, ...options.pdsEnv };
	// a test runner's loaders and flags are for this Node, not the PDS's
	delete env.NODE_OPTIONS;
	Object.assign(env, {
		LOCAL_NETWORK_DATA_DIR: dir,
		LOCAL_NETWORK_ACCOUNTS: JSON.stringify(accounts),
		LOCAL_NETWORK_HOSTS: clientHosts.join(','),
		LOCAL_NETWORK_STOP_ON_STDIN_END: '1',
		LOCAL_NETWORK_TRACE: options.traceRequests ? '1' : '0',
		// read once at process start: the CA the client hosts' certificate chains to
		NODE_EXTRA_CA_CERTS: tls.caPath,
	});
	if (options.onLog !== undefined) env.LOG_ENABLED ??= 'true';

	const preloads = ['hosts-preload.mjs', ...(options.steppableClock ? ['clock-preload.mjs'] : [])];
	const spawned = spawn(
		runtime.nodePath,
		[...preloads.flatMap((file) => ['--import', join(runtime.dir, file)]), join(runtime.dir, 'server.mjs')],
		{ cwd: runtime.dir, env, stdio: ['pipe', 'pipe', 'pipe'] },
	);
	folder.track(spawned);
	const exited = new Promise<void>((resolve) => spawned.once('exit', () => resolve()));

	const requests: PdsRequest[] = [];
	/** the commands sent on stdin awaiting their answer, by id: called with it, or undefined once the process exited. */
	const pending = new Map<string, (answer: string | undefined) => void>();
	spawned.once('exit', () => {
		for (const settle of pending.values()) settle(undefined);
		pending.clear();
	});
	// a command written after the process died, before its 'exit' arrives, fails with EPIPE: the
	// 'exit' above settles that command, so the pipe's error says nothing more (and, unheard,
	// would be an uncaught exception in the test process)
	spawned.stdin.on('error', () => {});
	let commandId = 0;
	/** sends `<verb> <id> <args>` to the process and resolves with its answer's rest, or undefined when it exited. */
	const command = (verb: string, args = ''): Promise<string | undefined> => {
		if (spawned.exitCode !== null || spawned.signalCode !== null) return Promise.resolve(undefined);
		const id = String(++commandId);
		return new Promise((resolve) => {
			pending.set(id, resolve);
			spawned.stdin.write(`${verb} ${id}${args === '' ? '' : ` ${args}`}\n`);
		});
	};
	const stderrTail: string[] = [];
	readLines(spawned.stderr, (line) => {
		stderrTail.push(line);
		if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
		options.onLog?.(line);
	});

	let ready: {
		pid: number;
		node: string;
		pdsUrl: string;
		issuer: string;
		plcUrl: string;
		accounts: LocalAccount[];
	};
	try {
		ready = await new Promise((resolve, reject) => {
			const timer = setTimeout(
				() => reject(new Error(`the local PDS was not ready after ${timeout} ms\n${stderrTail.join('\n')}`)),
				timeout,
			);
			readLines(spawned.stdout, (line) => {
				const space = line.indexOf(' ');
				const kind = space === -1 ? line : line.slice(0, space);
				const rest = line.slice(space + 1);
				if (kind === 'READY') {
					clearTimeout(timer);
					resolve(JSON.parse(rest));
				} else if (kind === 'REQUEST') {
					requests.push(JSON.parse(rest));
				} else if (kind === 'SYNCED' || kind === 'CLOCKED') {
					const space = rest.indexOf(' ');
					const id = space === -1 ? rest : rest.slice(0, space);
					pending.get(id)?.(space === -1 ? '' : rest.slice(space + 1));
					pending.delete(id);
				}
			});
			spawned.once('exit', (code, signal) => {
				clearTimeout(timer);
				const tail = stderrTail.join('\n');
				const hint = tail.includes('NODE_MODULE_VERSION')
					? `\nbetter-sqlite3 was built for another Node: run \`node packages/local-network/scripts/install-runtime.mjs --force\``
					: '';
				reject(
					new Error(`the local PDS exited before it was ready (${signal ?? `exit ${code}`})${hint}\n${tail}`),
				);
			});
			spawned.once('error', (error) => {
				clearTimeout(timer);
				reject(error);
			});
		});
	} catch (error) {
		spawned.kill('SIGKILL');
		await exited;
		folder.removeNow();
		throw error;
	}

	let closing: Promise<void> | undefined;
	let clockOffset = 0;
	const setClockOffset = async (ms: number): Promise<void> => {
		if (!options.steppableClock) throw new Error('the PDS clock can be moved only with steppableClock: true');
		if (!Number.isSafeInteger(ms)) throw new TypeError(`the clock offset must be an integer (ms), got ${ms}`);
		// before the answer: an advance made meanwhile counts from this one
		const before = clockOffset;
		clockOffset = ms;
		const answer = await command('CLOCK', String(ms));
		if (answer === String(ms)) return;
		// not moved: the offset is the one before, unless a later call has set another since
		if (clockOffset === ms) clockOffset = before;
		if (answer === undefined) throw new Error('the local PDS has stopped: its clock cannot be moved');
		if (answer === 'none')
			throw new Error('the local PDS has no steppable clock (clock-preload.mjs not loaded)');
		throw new Error(`the local PDS set its clock offset to ${answer}, not ${ms}`);
	};
	return {
		pdsUrl: ready.pdsUrl,
		issuer: ready.issuer,
		plcUrl: ready.plcUrl,
		accounts: ready.accounts,
		tls,
		pid: ready.pid,
		nodeVersion: ready.node,
		startupMs: Math.round(performance.now() - started),
		requests,
		async syncRequests() {
			if (!options.traceRequests) throw new Error('syncRequests needs traceRequests: true');
			await command('SYNC');
			return requests;
		},
		get pdsClockOffset() {
			return clockOffset;
		},
		setPdsClockOffset: setClockOffset,
		advancePdsClock(ms) {
			if (!Number.isSafeInteger(ms))
				return Promise.reject(new TypeError(`the clock step must be an integer (ms), got ${ms}`));
			return setClockOffset(clockOffset + ms);
		},
		close() {
			closing ??= (async () => {
				if (spawned.exitCode === null && spawned.signalCode === null) {
					// only the process this call started, by its pid
					spawned.kill('SIGTERM');
					const timer = setTimeout(() => spawned.kill('SIGKILL'), STOP_GRACE_MS);
					await exited;
					clearTimeout(timer);
				}
				folder.removeNow();
			})();
			return closing;
		},
	};
};
