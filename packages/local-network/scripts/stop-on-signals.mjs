// how the command-line tools stop: plain JavaScript, loaded before anything is built or installed.

/** how soon after a signal the same one counts as its echo (pnpm passes a group's signal on). */
const ECHO_MS = 500;

/**
 * from now on, SIGINT, SIGTERM and SIGHUP (Ctrl-C, `kill`, a terminal closed) close what
 * `running()` returns and exit 0 (1 when closing fails). before there is anything to close, or at
 * a second signal while closing (but SIGTERM or SIGHUP again within half a second: its echo),
 * the process exits at once (130). exiting, unlike dying of the
 * signal, runs the 'exit' handlers that kill the PDS and delete its folder (its TLS keys and
 * data), so nothing is left behind in any phase.
 * @param {() => { close(): Promise<void> } | undefined} running what to close, once it exists
 * @param {(signal: string) => void} [onStop] told before closing
 */
export const stopOnSignals = (running, onStop = () => {}) => {
	let stopping = false;
	/** the signal that started the stop, and when. */
	let first;
	const onSignal = (signal) => {
		// one `kill` to the process group reaches us twice: from the sender, and passed on by pnpm.
		// the same signal again within a moment is that echo. not SIGINT, which pnpm does not pass
		// on: a second Ctrl-C, however quick, still means "now"
		const echo = signal !== 'SIGINT' && first?.signal === signal && performance.now() - first.at < ECHO_MS;
		if (stopping && echo) return;
		const current = running();
		if (stopping || current === undefined) process.exit(130);
		stopping = true;
		first = { signal, at: performance.now() };
		onStop(signal);
		current.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
};
