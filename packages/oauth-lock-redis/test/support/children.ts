import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../fixtures/oauth-child.mjs', import.meta.url));

/** what a child reports back. */
export type ChildMessage =
	| { type: 'ready' }
	| { type: 'holding' }
	| { type: 'done'; ok: number; failures: Array<{ name: string; message: string }> }
	| { type: 'error'; error: { name: string; message: string } };

/** an app process, driven over IPC. */
export interface AppProcess {
	readonly process: ChildProcess;
	/** the next message of this type. */
	next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>>;
	/** lets it start (it waits after `ready`). */
	go(): void;
	/** kills it by its pid with SIGKILL (a crash: no cleanup runs) and waits for it to exit. */
	kill(): Promise<void>;
	/** resolves when it has exited. */
	readonly exited: Promise<void>;
}

/** starts an app process with `config` (see fixtures/oauth-child.mjs). */
export const startAppProcess = (config: Record<string, unknown>): AppProcess => {
	const child = fork(CHILD, [], {
		env: { ...process.env, CHILD_CONFIG: JSON.stringify(config) },
		// not the test runner's flags: a plain node process
		execArgv: [],
		stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
	});
	let output = '';
	const collect = (chunk: Buffer): void => {
		output = (output + chunk.toString()).slice(-8000);
	};
	child.stdout?.on('data', collect);
	child.stderr?.on('data', collect);

	const messages: ChildMessage[] = [];
	const waiting: Array<() => void> = [];
	child.on('message', (message) => {
		messages.push(message as ChildMessage);
		for (const wake of waiting.splice(0)) wake();
	});
	const exited = new Promise<void>((resolve) => {
		child.once('exit', () => {
			for (const wake of waiting.splice(0)) wake();
			resolve();
		});
	});

	const next = async <T extends ChildMessage['type']>(type: T) => {
		for (;;) {
			const index = messages.findIndex((message) => message.type === type);
			if (index !== -1) return messages.splice(index, 1)[0] as Extract<ChildMessage, { type: T }>;
			if (child.exitCode !== null || child.signalCode !== null) {
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
				process.kill(child.pid, 'SIGKILL');
			}
			await exited;
		},
		exited,
	};
};
