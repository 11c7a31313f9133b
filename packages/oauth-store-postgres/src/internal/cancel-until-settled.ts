import { CANCEL_RESEND_MS, CANCEL_WAIT_MS } from '../constants.ts';
import { canCancel, cancelStatement } from './cancel-statement.ts';

/** options for `cancelUntilSettled`. */
export interface CancelUntilSettledOptions {
	/** milliseconds to keep trying for; default `CANCEL_WAIT_MS`. */
	waitMs?: number;
	/** milliseconds between two cancels; default `CANCEL_RESEND_MS`. */
	everyMs?: number;
}

/**
 * cancels `statement`, running on `client` (a node-postgres `Client` checked out of a pool made
 * with `config`), until it settles or `waitMs` passes: a cancel now, then again every `everyMs`
 * (each after the previous one's connection closed). PostgreSQL drops a cancel that reaches the
 * backend before the statement has started, so one cancel alone can miss a statement whose bytes
 * are still on their way. resolves once the statement has settled or the time is up; never rejects.
 * a client that cannot be cancelled (see `canCancel`) resolves at once.
 *
 * the caller must keep `client` checked out, with nothing else sent on it, until this resolves: a
 * cancel names the backend, not a statement, and so can stop only `statement`, or nothing. behind a
 * transaction-mode pooler (PgBouncer) the cancel names the client connection, and reaches the
 * server only while that connection is open and inside its statement.
 */
export const cancelUntilSettled = async (
	client: object,
	config: unknown,
	statement: Promise<unknown>,
	options: CancelUntilSettledOptions = {},
): Promise<void> => {
	const { waitMs = CANCEL_WAIT_MS, everyMs = CANCEL_RESEND_MS } = options;
	if (!canCancel(client, config)) return;
	let settled = false;
	const done = statement.then(
		() => {
			settled = true;
		},
		() => {
			settled = true;
		},
	);
	const deadline = performance.now() + waitMs;
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		for (;;) {
			const left = deadline - performance.now();
			if (left <= 0) return;
			const cancel = cancelStatement(client, config, left);
			const pause = new Promise<void>((resolve) => {
				timer = setTimeout(resolve, Math.min(everyMs, left));
			});
			await Promise.race([done, Promise.all([cancel, pause])]);
			clearTimeout(timer);
			if (settled) {
				// the cancel sent last may still be on its way: resolved only once its connection is
				// closed (cancelStatement's own bound, `left`), nothing of ours reaches the server later
				await cancel;
				return;
			}
		}
	} catch {
		// nothing above should throw; the cancel is best effort, and must not become an unhandled rejection
	} finally {
		clearTimeout(timer);
	}
};
