import { readCappedBody } from '@atcute-oauth/internal/read-capped-body';

/** the most of a refused call's body kept in memory: a PDS's error JSON is far smaller. */
const MAX_BUFFERED_BYTES = 64 * 1024;

/**
 * `response` with its body read into memory, so that holding it does not hold its connection: a
 * call the PDS refused waits for a refresh whose own requests may need that server, and a
 * transport that bounds its connections to one origin (as the Node transport does) would have
 * none to give them while hundreds of refused calls each kept one. a body longer than 64 KiB, or
 * one that breaks off, is not kept (the copy has none); status, headers, `url` and `redirected` are.
 */
export const bufferedResponse = async (response: Response): Promise<Response> => {
	if (response.body === null) return response;
	let bytes: Uint8Array | undefined;
	try {
		bytes = await readCappedBody(response.body, MAX_BUFFERED_BYTES);
	} catch {
		bytes = undefined;
	}
	const copy = new Response((bytes as Uint8Array<ArrayBuffer> | undefined) ?? null, {
		status: response.status,
		statusText: response.statusText,
		headers: response.headers,
	});
	// what a Response made here cannot be given in its constructor: where the answer came from
	Object.defineProperty(copy, 'url', { value: response.url });
	Object.defineProperty(copy, 'redirected', { value: response.redirected });
	return copy;
};
