import type { Redis } from 'ioredis';

/** the part of a client's socket this needs; a Cluster has none (`stream` undefined). */
interface Stream {
	readonly bytesRead: number;
	readonly destroyed: boolean;
	destroy(): void;
	resetAndDestroy?: () => void;
}

/** what a command's connection looked like when it was written. */
export interface SentOn {
	stream: Stream | undefined;
	bytesRead: number;
}

/** the connection a command is about to be written to, as it is now. */
export const sentOn = (redis: Redis): SentOn => {
	const stream = (redis as { stream?: Stream | null }).stream ?? undefined;
	return { stream, bytesRead: stream?.bytesRead ?? 0 };
};

/**
 * resets (RST, not FIN) the connection a command went unanswered on, when nothing at all came over
 * it since the command was written: a path gone silent (a NAT or firewall that dropped it, a
 * failover whose old address stops answering, a pulled cable) sends no FIN or RST, and the kernel
 * keeps such a socket "established" for up to 15 minutes of retransmits. until then every later
 * command waits behind the unanswered one, and once the path is back the kernel delivers what it
 * held: a write the store reported as failed would run then, over newer data written meanwhile
 * through another connection (an older refresh token over a newer one). an RST discards what the
 * kernel has not delivered, and ioredis reconnects at once. a connection that received anything
 * meanwhile is alive (Redis answering others first) and is left alone.
 */
export const resetIfSilent = (redis: Redis, sent: SentOn): void => {
	const { stream } = sent;
	if (stream === undefined || stream.destroyed) return;
	// replaced already (ioredis reconnected): the new connection owes us nothing
	if ((redis as { stream?: unknown }).stream !== stream) return;
	if (stream.bytesRead !== sent.bytesRead) return;
	try {
		if (typeof stream.resetAndDestroy === 'function') stream.resetAndDestroy();
		else stream.destroy();
	} catch {
		stream.destroy();
	}
};
