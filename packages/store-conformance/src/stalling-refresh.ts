import { spawn } from 'node:child_process';

/** an actor resolver, as the client takes it: only `resolve` is wrapped. */
interface Resolver {
	resolve(...args: never[]): Promise<unknown>;
}

/** what `stallingRefresh` gives a test client, and how the test drives it. */
export interface StallingRefresh<R extends Resolver> {
	/** `inner`, running the step given to `beforeLookup` once, before its next lookup. */
	actorResolver: R;
	/** the global `fetch`, but for the one answer it stalls after (see `stallingRefresh`). */
	fetch: typeof fetch;
	/** runs `step` before the refresh's identity lookup (under the lock), then arms the stall. */
	beforeLookup(step: () => Promise<void>): void;
	/** the step not run yet, and the stall not made yet: both undefined / false once they were. */
	pending(): { step: (() => Promise<void>) | undefined; stallArmed: boolean };
}

/**
 * a client's resolver and fetch for a refresh whose process stalls right before its token request:
 * the refresh looks up the account's identity under the lock, where the test's step runs (another
 * process starts waiting for the lock); the answer of its last request before the token request
 * (the PDS's protected-resource metadata) then blocks the event loop for `stallMs`, as a long GC
 * pause or a frozen VM would, and the refresh resumes from that I/O callback, before the lock's
 * overdue timers run. a lock must tell it there that another process took it over meanwhile.
 */
export const stallingRefresh = <R extends Resolver>(inner: R, stallMs: number): StallingRefresh<R> => {
	let step: (() => Promise<void>) | undefined;
	let stallArmed = false;
	return {
		// `resolve` alone, as the refresh's lookup goes through it (a resolver that exposes its
		// handle and document resolvers would be read through those)
		actorResolver: {
			resolve: async (...args: never[]) => {
				const run = step;
				step = undefined;
				if (run !== undefined) {
					stallArmed = true;
					await run();
				}
				return inner.resolve(...args);
			},
		} as R,
		fetch: async (input, init) => {
			const response = await fetch(input, init);
			if (!(stallArmed && String(input).endsWith('/.well-known/oauth-protected-resource'))) return response;
			stallArmed = false;
			const body = await response.arrayBuffer();
			Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs);
			return new Response(body, response);
		},
		beforeLookup: (given) => {
			step = given;
		},
		pending: () => ({ step, stallArmed }),
	};
};

/** a process of the app started by a test: what it printed so far, and how to stop it. */
export interface OtherProcess {
	stdout(): string;
	/** kills it (SIGKILL) and waits for it to exit. */
	kill(): Promise<void>;
}

/** starts `node <args>` in `cwd`, its standard output kept, its standard error the test's. */
export const startOtherProcess = (args: string[], cwd: string): OtherProcess => {
	const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	let out = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	return {
		stdout: () => out,
		kill: async () => {
			child.kill('SIGKILL');
			await exited;
		},
	};
};
