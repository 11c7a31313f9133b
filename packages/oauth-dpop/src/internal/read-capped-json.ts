/**
 * reads a JSON body of at most `maxBytes`, or gives `undefined` (too large, not JSON, broken
 * stream). for peeking at error bodies, which a hostile server could make endless.
 */
export const readCappedJson = async (response: Response, maxBytes: number): Promise<unknown> => {
	const length = Number(response.headers.get('content-length') ?? Number.NaN);
	// cancels are not awaited: on a clone, cancelling one branch of the tee settles only once the
	// other branch (the body kept for the caller) is cancelled too, which would hang here forever
	if (length > maxBytes || response.body === null) {
		void response.body?.cancel().catch(() => {});
		return undefined;
	}

	const reader = response.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			size += value.byteLength;
			if (size > maxBytes) {
				void reader.cancel().catch(() => {});
				return undefined;
			}
			chunks.push(value);
		}
		const bytes = new Uint8Array(size);
		let offset = 0;
		for (const chunk of chunks) {
			bytes.set(chunk, offset);
			offset += chunk.byteLength;
		}
		return JSON.parse(new TextDecoder().decode(bytes));
	} catch {
		return undefined;
	}
};
