/**
 * the error for a body that was read, or is being read, before it reached us: an app's `fetch` that
 * reads the answer (to log it, say) and hands back the `Response` itself rather than a clone. never
 * transient (`transient: false`, as a guard's refusal): every retry meets the same fetch, and
 * "could not fetch" would send the app looking at the server.
 */
const usedBodyError = (): TypeError =>
	Object.assign(
		new TypeError(
			'the fetch function handed back a Response whose body was already read (or locked to a reader): a fetch that reads the answer must hand back response.clone()',
		),
		{ transient: false },
	);

/**
 * reads a whole body of at most `maxBytes`, or gives `undefined` once it grows past that, after
 * cancelling the stream so the server stops sending. errors of the stream (abort, reset) are
 * thrown as they come: an aborted read rejects with what the stream was errored with. a body
 * already read (or locked to a reader) is a `TypeError` with `transient: false`.
 */
export const readCappedBody = async (
	body: ReadableStream<Uint8Array>,
	maxBytes: number,
): Promise<Uint8Array | undefined> => {
	if (body.locked) throw usedBodyError();
	const reader = body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;

	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > maxBytes) {
			// stop here: an endless body must cost us at most maxBytes plus one chunk. the cancel is
			// not awaited: on a cloned response it settles only once the other branch of the tee is
			// cancelled too, which may never happen
			void reader.cancel().catch(() => {});
			return undefined;
		}
		chunks.push(value);
	}

	if (chunks.length === 1) return chunks[0]!;
	const bytes = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		bytes.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return bytes;
};
