/** the part of a node-postgres `Client` this needs: its connection's socket. */
interface WithSocket {
	connection?: { stream?: { destroyed?: boolean; destroy?: () => void; resetAndDestroy?: () => void } };
}

/**
 * closes the socket of `client` (a node-postgres `Client`) with an RST, not a FIN: over a path gone
 * silent (a NAT or firewall that dropped the connection, a failover whose old address stops
 * answering), the kernel keeps retransmitting what it was given, a statement given up on and
 * pg's Terminate, and delivers them once the path is back, minutes later: a write the store
 * reported as failed would run then, over newer data written meanwhile through another connection
 * (an older refresh token over a newer one). an RST discards what the kernel has not delivered.
 * call it before `release(true)`, which would end the socket gracefully.
 */
export const resetConnection = (client: object): void => {
	const stream = (client as WithSocket).connection?.stream;
	if (stream === undefined || stream.destroyed === true) return;
	try {
		if (typeof stream.resetAndDestroy === 'function') stream.resetAndDestroy();
		else stream.destroy?.();
	} catch {
		// a socket that cannot be reset is closed by release(true) as before
	}
};
