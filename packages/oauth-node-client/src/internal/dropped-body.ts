import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * what lets a response body's connection go: the message it arrives on and the decoders it goes
 * through. never the body's stream, nor the `Response`: the registry below holds this strongly,
 * and would otherwise keep alive the very body whose collection it waits for.
 */
export interface BodySource {
	readonly message: IncomingMessage;
	readonly decoders: readonly Duplex[];
	/** set when a dropped body is drained: its decoders' close must then not close the connection. */
	draining: boolean;
}

/**
 * the most raw bytes read off the network to drain a dropped body whose end had not arrived
 * yet: a few round trips at most, cheaper than the TCP and TLS handshakes of the connection that
 * closing it would cost. a longer (or endless) body is not worth the bandwidth, and is closed.
 */
const DRAIN_LIMIT = 64 * 1024;

/**
 * stops decoding a body nobody reads: a few KB of a hostile server's gzip or br expand to
 * gigabytes, which would be decoded in the background; only the raw bytes are drained. the body
 * is piped into the first decoder: unpiped there, or a destroyed decoder's close would unpipe it
 * later and leave it paused, never ending.
 */
export const stopDecoding = ({ message, decoders }: BodySource): void => {
	if (decoders.length === 0) return;
	message.unpipe(decoders[0]);
	for (const decoder of decoders) decoder.destroy();
};

/**
 * lets go of the connection of a body that was garbage-collected unread (or read in part). a body
 * read to its end, cancelled or failed has nothing left to let go, and is left as it is. what
 * remains is drained, as node:http's own `resume()` advice does, so the connection goes back to
 * the pool when the response's framing says it has ended (never sooner: the next response on it
 * must start where this one ends); past `DRAIN_LIMIT` bytes it is closed instead. a server that
 * goes silent meanwhile meets the request's inactivity timeout.
 */
const release = (body: BodySource): void => {
	const { message } = body;
	if (message.destroyed || message.readableEnded) return;
	body.draining = true;
	stopDecoding(body);
	if (!message.complete) {
		let drained = 0;
		message.on('data', (chunk: Buffer) => {
			drained += chunk.length;
			if (drained > DRAIN_LIMIT) message.destroy();
		});
	}
	message.resume();
};

// made on first use, as the rest of the transport is
let registry: FinalizationRegistry<BodySource> | undefined;

/**
 * releases `source` (see `release`) once `stream`, the body of a `Response` the transport made,
 * has been garbage-collected. the stream is unreachable only once its `Response`, every clone and
 * every reader of it are: the node side holds it only while a read waits on it (see
 * `toWebResponse`), so a body someone still reads is never collected.
 */
export const releaseWhenDropped = (stream: ReadableStream<Uint8Array>, source: BodySource): void => {
	registry ??= new FinalizationRegistry(release);
	registry.register(stream, source);
};
