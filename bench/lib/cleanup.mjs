// what a bench leaves on the machine (the servers it started, its temp folders) goes when the
// bench ends, however it ends: by the bench's own stop steps; on SIGINT, SIGTERM or SIGHUP (Ctrl-C,
// `kill`, a terminal closed), after which it exits 128 + the signal's number (130 for SIGINT); and,
// as a last resort, on process exit (an uncaught error). only what the bench registered here is
// stopped, by pid. not packages/local-network/scripts/stop-on-signals.mjs: that one exits 0 once
// closed and exits at once at a second signal, where a bench keeps cleaning up (a second Ctrl-C
// comes quickly when the first seems to do nothing).
import { rmSync } from 'node:fs';
import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** how long a process gets to exit after its stop signal before it is killed (SIGKILL). */
const STOP_GRACE_MS = 5_000;
/** how long the cleanup after a signal may take in all before the bench exits anyway. */
const CLEANUP_LIMIT_MS = 15_000;

/** what is still to clean up, oldest first: each entry removes itself once done. */
const owned = new Set();
let installed = false;
let stopping = false;

/** whether a signal has the bench stopping (its clients' errors from then on are expected). */
export const stoppingOnSignal = () => stopping;

/** stops and removes everything still registered, newest first (a server before its folder). */
export const cleanUpAll = async () => {
	for (const entry of [...owned].reverse()) {
		try {
			await entry.stop();
		} catch (error) {
			console.error(`bench: cleanup: ${error instanceof Error ? error.message : error}`);
		}
	}
};

const onSignal = (signal) => {
	if (stopping) {
		console.error(`bench: ${signal} again: still stopping its servers and removing its temp folders`);
		return;
	}
	stopping = true;
	const code = 128 + (constants.signals[signal] ?? 0);
	console.error(`\nbench: ${signal}: stopping its servers and removing its temp folders`);
	// from here on the bench's own steps fail (its servers are stopping; with Ctrl-C they got the
	// signal too): those errors are not news, and must not end the process before the cleanup does
	process.on('uncaughtException', () => {});
	setTimeout(() => process.exit(code), CLEANUP_LIMIT_MS);
	cleanUpAll().finally(() => process.exit(code));
};

const track = (entry) => {
	if (!installed) {
		installed = true;
		for (const signal of SIGNALS) process.on(signal, onSignal);
		// the last resort: synchronous, so processes get their stop signal but are not waited for
		process.on('exit', () => {
			for (const last of [...owned].reverse()) {
				try {
					last.stopNow();
				} catch {
					// exiting anyway
				}
			}
		});
	}
	owned.add(entry);
	return entry;
};

/**
 * a temp folder of the bench's, removed when the bench ends in any way.
 * @param {string} dir
 * @returns {() => void} removes it now
 */
export const ownFolder = (dir) => {
	const remove = () => {
		owned.delete(entry);
		rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
	};
	const entry = track({ stop: async () => remove(), stopNow: remove });
	return remove;
};

/**
 * a child process of the bench's (a server, initdb), stopped by its pid with `signal` when the
 * bench ends in any way, and killed if it has not exited STOP_GRACE_MS later.
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} [signal]
 * @returns {{ exited: Promise<void>, stop: () => Promise<void> }} stop resolves once it has exited
 */
export const ownProcess = (child, signal = 'SIGTERM') => {
	const hasExited = () => child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
	const exited = new Promise((resolve) => {
		child.once('exit', () => resolve());
		// a process that never started emits 'error' and no 'exit'
		child.once('error', () => {
			if (child.pid === undefined) resolve();
		});
	});
	const stop = async () => {
		if (!hasExited()) {
			child.kill(signal);
			const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
			await exited;
			clearTimeout(timer);
		}
		owned.delete(entry);
	};
	const entry = track({
		stop,
		stopNow: () => {
			owned.delete(entry);
			if (!hasExited()) child.kill(signal);
		},
	});
	return { exited, stop };
};
