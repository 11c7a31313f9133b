import { Socket } from 'node:net';

import { describe, expect, it } from 'vitest';

import { closedIfAbandoned } from './closed-if-abandoned.ts';
import { CONNECT_SIGNAL } from './connect-signal.ts';
import type { CreateConnection } from './with-connect-timeout.ts';

/** a `createConnection` that hands back a socket made now (unconnected), and the sockets it made. */
const making = () => {
	const made: Socket[] = [];
	const create: CreateConnection = () => {
		const socket = new Socket();
		made.push(socket);
		return socket;
	};
	return { made, create };
};

describe('closedIfAbandoned', () => {
	it('closes the socket it made when the connection signal aborts (the request let go of before the hand-over)', () => {
		const { made, create } = making();
		const connection = new AbortController();

		const socket = closedIfAbandoned(create).call(
			undefined,
			{ [CONNECT_SIGNAL]: connection.signal },
			() => {},
		);

		expect(socket).toBe(made[0]);
		expect(socket!.destroyed).toBe(false);
		connection.abort();
		expect(socket!.destroyed).toBe(true);
	});

	it('closes at once a socket made for a request abandoned already', () => {
		const { create } = making();
		const socket = closedIfAbandoned(create).call(
			undefined,
			{ [CONNECT_SIGNAL]: AbortSignal.abort() },
			() => {},
		);

		expect(socket!.destroyed).toBe(true);
	});

	it('leaves alone a socket without a connection signal, and a connection handed over later', () => {
		const { create } = making();
		const socket = closedIfAbandoned(create).call(undefined, {}, () => {});
		expect(socket!.destroyed).toBe(false);
		socket!.destroy();

		// a tunnel: no socket now, given up by the tunnel itself on the same signal
		const later: CreateConnection = () => undefined;
		const connection = new AbortController();
		expect(closedIfAbandoned(later).call(undefined, { [CONNECT_SIGNAL]: connection.signal }, () => {})).toBe(
			undefined,
		);
		connection.abort();
	});
});
