import { usesNodeTransport } from '../uses-node-transport.ts';
import { allowList, type HostAllowed } from './allow-list.ts';

/** the options `createNodeFetch` and the facade's default transport share (documented there). */
export interface NodeTransportOptions {
	allowPrivateNetwork?: boolean | readonly string[] | undefined;
	inactivityTimeout?: number | undefined;
	connectTimeout?: number | undefined;
	maxRequestsPerOrigin?: number | undefined;
}

/** the transport's options, read once and checked, with their defaults. */
export interface TransportSettings {
	inactivityTimeout: number;
	connectTimeout: number;
	maxRequestsPerOrigin: number;
	/** the hosts that may be on a private network. */
	allowed: HostAllowed;
	/** whether connections are checked against private addresses at all. */
	guarded: boolean;
}

const DEFAULT_INACTIVITY_MS = 300_000;
// as Node's fetch: the time a connection may take to open, apart from the silence allowed after
const DEFAULT_CONNECT_MS = 10_000;
// enough for any app's steady traffic to one PDS, few enough that a burst's TLS handshakes do not
// stall the event loop (without a limit, 2,500 calls at once stalled it for 1-1.4 s and 10,000 for
// 3.5-9 s: `pnpm bench fan-out`)
const DEFAULT_MAX_REQUESTS_PER_ORIGIN = 256;

// the longest delay a timer keeps (2^31 - 1 ms, about 24.8 days): Node runs a longer one after
// 1 ms, with a TimeoutOverflowWarning (a connect, or a proxy's CONNECT, would "time out" at once)
const MAX_TIMER_MS = 2 ** 31 - 1;

const checkMilliseconds = (name: string, value: number): void => {
	if (!(Number.isFinite(value) && value > 0 && value <= MAX_TIMER_MS)) {
		throw new TypeError(
			`${name} must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${value}`,
		);
	}
};

/**
 * reads and checks the transport's options when it is made, so a wrong one throws there (not at
 * the first request), whether the transport's code is loaded yet or not.
 * @throws TypeError naming the option
 */
export const transportSettings = (options: NodeTransportOptions): TransportSettings => {
	const { inactivityTimeout = DEFAULT_INACTIVITY_MS, connectTimeout = DEFAULT_CONNECT_MS } = options;
	checkMilliseconds('inactivityTimeout', inactivityTimeout);
	checkMilliseconds('connectTimeout', connectTimeout);
	const { maxRequestsPerOrigin = DEFAULT_MAX_REQUESTS_PER_ORIGIN } = options;
	const unlimited = maxRequestsPerOrigin === Number.POSITIVE_INFINITY;
	if (!(unlimited || (Number.isSafeInteger(maxRequestsPerOrigin) && maxRequestsPerOrigin > 0))) {
		throw new TypeError(
			`maxRequestsPerOrigin must be a positive integer, or Infinity for no limit, got ${maxRequestsPerOrigin}`,
		);
	}
	const allowed = allowList(options.allowPrivateNetwork);
	const guarded = options.allowPrivateNetwork !== true;
	if (guarded && !usesNodeTransport()) {
		// Bun's and Deno's node:http are emulations: whether they honour an agent's lookup (where
		// the guard lives) is theirs to decide, so a guard that might silently not run is refused
		throw new TypeError(
			'createNodeFetch guards connections through node:http, which this runtime only emulates; use the global fetch here (and guard at the network), or pass allowPrivateNetwork: true',
		);
	}
	return { inactivityTimeout, connectTimeout, maxRequestsPerOrigin, allowed, guarded };
};
