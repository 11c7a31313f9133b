// how the command-line tools stop: plain JavaScript, loaded before anything is built or installed.

/**
 * from now on, SIGINT, SIGTERM and SIGHUP (Ctrl-C, `kill`, a terminal closed) close what
 * `running()` returns and exit 0 (1 when closing fails). before there is anything to close, or at
 * a second signal while closing, the process exits at once (130). exiting, unlike dying of the
 * signal, runs the 'exit' handlers that kill the PDS and delete its folder (its TLS keys and
 * data), so nothing is left behind in any phase.
 * @param {() => { close(): Promise<void> } | undefined} running what to close, once it exists
 * @param {(signal: string) => void} [onStop] told before closing
 */
export const stopOnSignals = (running, onStop = () => {}) => {
	let stopping = false;
	const onSignal = (signal) => {
		const current = running();
		if (stopping || current === undefined) process.exit(130);
		stopping = true;
		onStop(signal);
		current.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
};
