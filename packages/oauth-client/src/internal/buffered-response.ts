import { readCappedBody } from '@atcute-oauth/internal/read-capped-body';

/** the most of a refused call's body kept in memory: a PDS's error JSON is far smaller. */
const MAX_BUFFERED_BYTES = 64 * 1024;

/**
 * `response` with its body read into memory, so that holding it does not hold its connection: a
 * call the PDS refused waits for a refresh whose own requests may need that server, and a
 * transport that bounds its connections to one origin (an undici `Pool`, say) would have none to
 * give them while hundreds of refused calls each kept one. a body longer than 64 KiB, or
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
	return fromSource(copy, response.url, response.redirected);
};

/**
 * `response` saying it came from `url` (and through a redirect, or not): what a Response made here
 * cannot be given in its constructor. its clones say so too (`clone()` makes a plain Response).
 */
const fromSource = (response: Response, url: string, redirected: boolean): Response => {
	Object.defineProperty(response, 'url', { value: url });
	Object.defineProperty(response, 'redirected', { value: redirected });
	Object.defineProperty(response, 'clone', {
		value: () => fromSource(Response.prototype.clone.call(response), url, redirected),
	});
	return response;
};
