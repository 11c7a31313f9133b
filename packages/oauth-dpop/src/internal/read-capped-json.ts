import { readCappedBody } from '@atcute-oauth/internal/read-capped-body';

const decoder = new TextDecoder();

/**
 * reads a JSON body of at most `maxBytes`, or gives `undefined` (too large, not JSON, broken
 * stream). for peeking at error bodies, which a hostile server could make endless.
 */
export const readCappedJson = async (response: Response, maxBytes: number): Promise<unknown> => {
	const length = Number(response.headers.get('content-length') ?? Number.NaN);
	// not awaited: on a clone, cancelling one branch of the tee settles only once the other branch
	// (the body kept for the caller) is cancelled too, which would hang here forever
	if (length > maxBytes || response.body === null) {
		void response.body?.cancel().catch(() => {});
		return undefined;
	}
	try {
		const bytes = await readCappedBody(response.body, maxBytes);
		return bytes === undefined ? undefined : JSON.parse(decoder.decode(bytes));
	} catch {
		return undefined;
	}
};
