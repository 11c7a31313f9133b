import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

import { timeoutUnless } from './timeout-unless.ts';

/** an agent's `createConnection`: a socket now, or one later through `callback`. */
export type CreateConnection = (this: unknown, options: object, callback: unknown) => Socket | undefined;

type Callback = (error: Error | null | undefined, socket?: Socket) => void;

/**
 * `create` with the connections it opens given `ms` to open: the TCP connect (or a proxy's tunnel,
 * which times itself) and then, for TLS, the handshake. the agent gives a new socket its timeout
 * for idle pooled ones (4 s), too short for a slow connect (a SYN sent again), which then failed as
 * "no data"; at 'connect' the request's inactivity timeout takes over the socket's timer, and for
 * TLS would time the handshake too, but only after twice its length (node does not count the first
 * timeout while the request's headers wait to be written, which they do until the handshake ends).
 */
export const withConnectTimeout = (create: CreateConnection, ms: number): CreateConnection =>
	function createConnection(options, callback) {
		const deadline = performance.now() + ms;
		let made: Socket | undefined;
		// a socket handed over later (TLS over a proxy's tunnel) gets what is left of the time
		const later: unknown =
			typeof callback === 'function'
				? (error: Error | null | undefined, socket?: Socket) => {
						if (socket !== undefined && socket !== made) untilSecure(socket, deadline, ms);
						(callback as Callback)(error, socket);
					}
				: callback;
		made = create.call(this, options, later);
		if (made?.connecting) made.setTimeout(ms);
		if (made !== undefined) untilSecure(made, deadline, ms);
		return made;
	};

/**
 * closes a TLS socket whose handshake has not finished by `deadline`. only for a socket just made:
 * its handshake cannot have finished yet, so 'secureConnect' is still to come.
 */
const untilSecure = (socket: Socket, deadline: number, ms: number): void => {
	if ((socket as TLSSocket).encrypted !== true) return;
	timeoutUnless(socket, 'secureConnect', Math.max(0, deadline - performance.now()), () =>
		socket.destroy(new Error(`connect timed out after ${ms} ms`)),
	);
};
