import { readCappedBody } from '@atcute-oauth/internal/read-capped-body';

const decoder = new TextDecoder();

/**
 * reads a JSON body of at most `maxBytes`; `undefined` when it is larger, not JSON, or the
 * stream breaks. a server's answer is never read whole without a bound.
 */
export const readJsonBody = async (response: Response, maxBytes: number): Promise<unknown> => {
	const length = Number(response.headers.get('content-length') ?? Number.NaN);
	if (length > maxBytes || response.body === null) {
		await discardBody(response);
		return undefined;
	}
	try {
		const bytes = await readCappedBody(response.body, maxBytes);
		return bytes === undefined ? undefined : JSON.parse(decoder.decode(bytes));
	} catch {
		return undefined;
	}
};

/** cancels a body we will not read, so its connection is freed; a failed cancel changes nothing. */
export const discardBody = async (response: Response): Promise<void> => {
	await response.body?.cancel().catch(() => {});
};
