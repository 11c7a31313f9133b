import { type ChildProcess, fork } from 'node:child_process';

/** what an app process (a cross-process test fixture) reports back. */
export type AppMessage =
	| { type: 'ready' }
	| { type: 'holding' }
	| { type: 'done'; ok: number; failures: Array<{ name: string; message: string }> }
	| { type: 'taken'; keys: string[] }
	| { type: 'error'; error: { name: string; message: string } };

/** an app process, driven over IPC. */
export interface AppProcess {
	readonly process: ChildProcess;
	/** the next message of this type; throws with the process's output if it exits first. */
	next<T extends AppMessage['type']>(type: T): Promise<Extract<AppMessage, { type: T }>>;
	/** lets it start (fixtures wait after `ready`, so every process begins at once). */
	go(): void;
	/** kills it by its pid with SIGKILL (a crash: no cleanup runs) and waits for it to exit. */
	kill(): Promise<void>;
	/** resolves when it has exited. */
	readonly exited: Promise<void>;
}

/**
 * starts `fixture` (a plain .mjs) as a separate node process with `config` in `CHILD_CONFIG`.
 * it runs without the test runner's flags, so it imports the built packages, as an app would.
 */
export const startAppProcess = (
	fixture: string,
	config: Record<string, unknown>,
	options: { cwd?: string } = {},
): AppProcess => {
	const child = fork(fixture, [], {
		...options,
		env: { ...process.env, CHILD_CONFIG: JSON.stringify(config) },
		execArgv: [],
		stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
	});
	// the last of its output, for the error when it dies early
	let output = '';
	const collect = (chunk: Buffer): void => {
		output = (output + chunk.toString()).slice(-8000);
	};
	child.stdout?.on('data', collect);
	child.stderr?.on('data', collect);

	const messages: AppMessage[] = [];
	const waiting: Array<() => void> = [];
	const wakeAll = (): void => {
		for (const wake of waiting.splice(0)) wake();
	};
	child.on('message', (message) => {
		messages.push(message as AppMessage);
		wakeAll();
	});
	// 'close', not 'exit': 'exit' can come before the last messages are read from the channel (a
	// "done" sent just before exiting), while 'close' waits for the channel to close too
	let closed = false;
	child.once('close', () => {
		closed = true;
		wakeAll();
	});
	const exited = new Promise<void>((resolve) => {
		child.once('exit', () => {
			wakeAll();
			resolve();
		});
	});

	const next = async <T extends AppMessage['type']>(type: T) => {
		for (;;) {
			const index = messages.findIndex((message) => message.type === type);
			if (index !== -1) return messages.splice(index, 1)[0] as Extract<AppMessage, { type: T }>;
			if (closed) {
				throw new Error(
					`app process exited (${child.signalCode ?? child.exitCode}) before "${type}": ${output}`,
				);
			}
			await new Promise<void>((resolve) => waiting.push(resolve));
		}
	};

	return {
		process: child,
		next,
		go: () => child.send('go'),
		kill: async () => {
			if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
				try {
					process.kill(child.pid, 'SIGKILL');
				} catch (err) {
					// it exited on its own, and its 'exit' event has not been handled yet
					if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
				}
			}
			await exited;
		},
		exited,
	};
};
