import { CANCEL_WAIT_MS } from '../constants.ts';

/** a node-postgres `Client` made only to send a cancel, before it ever connects. */
interface CancelSender {
	cancel(target: object, query: object): void;
	connection?: {
		on?: (event: 'error', listener: () => void) => unknown;
		once?: (event: 'end', listener: () => void) => unknown;
		stream?: { destroy?: () => void };
	};
}

/**
 * whether `cancelStatement` can send a cancel for `client`, checked out of a pool made with
 * `config`: a node-postgres `Client` with its backend's process id and secret key, and options to
 * connect with.
 */
export const canCancel = (client: object, config: unknown): boolean => {
	const { processID, secretKey } = client as { processID?: unknown; secretKey?: unknown };
	const Sender = client.constructor as (new (config: unknown) => CancelSender) | undefined;
	// pg-native or a look-alike (no key, no pg `cancel`), a pool without options: nothing to send it with
	if (
		typeof processID !== 'number' ||
		secretKey === null ||
		secretKey === undefined ||
		typeof Sender !== 'function' ||
		typeof Sender.prototype?.cancel !== 'function' ||
		typeof config !== 'object' ||
		config === null
	) {
		return false;
	}
	// a stream object, not a factory, is the connection's own: connecting it again is no cancel
	const { stream } = config as { stream?: unknown };
	return !(typeof stream === 'object' && stream !== null);
};

/**
 * asks the server to cancel what the backend of `client` (a node-postgres `Client` checked out of
 * a pool made with `config`, its `options`) is running, best effort: PostgreSQL's CancelRequest,
 * sent by pg's own `Client#cancel` on a new connection of the same class and settings (host, port
 * or socket, ssl, stream factory). it carries the backend's process id and secret key, so it
 * reaches that backend only, never one that reused its pid. resolves once the cancel's connection
 * is closed, at most `waitMs` later; never rejects, and leaves no listener that could throw. a
 * client without a process id and secret key (pg-native, a look-alike) is left alone.
 */
export const cancelStatement = (
	client: object,
	config: unknown,
	waitMs: number = CANCEL_WAIT_MS,
): Promise<void> => {
	if (!canCancel(client, config)) return Promise.resolve();
	const { processID, secretKey } = client as { processID?: unknown; secretKey?: unknown };
	const Sender = client.constructor as new (config: unknown) => CancelSender;

	return new Promise<void>((resolve) => {
		let timer: ReturnType<typeof setTimeout> | undefined;
		let close = (): void => {};
		const finish = (): void => {
			clearTimeout(timer);
			resolve();
		};
		try {
			const sender = new Sender(config);
			const connection = sender.connection;
			if (
				typeof connection?.on !== 'function' ||
				typeof connection.once !== 'function' ||
				typeof connection.stream?.destroy !== 'function'
			) {
				return finish();
			}
			// the server closes the connection once it has the request; it may never answer at all
			close = () => connection.stream?.destroy?.();
			// an 'error' event with no listener would crash the process; the cancel is best effort
			connection.on('error', close);
			connection.once('end', finish);
			timer = setTimeout(() => {
				close();
				finish();
			}, waitMs);
			// pg cancels `query` when it is `target`'s active query: a marker stands for ours, whose
			// Query object pg does not hand out (and which it dropped when the connection closed)
			const marker = {};
			sender.cancel({ activeQuery: marker, processID, secretKey }, marker);
		} catch {
			// a config pg now refuses, a port the socket refuses: nothing was sent
			close();
			finish();
		}
	});
};
