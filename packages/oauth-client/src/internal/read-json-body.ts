import { readCappedBody } from '@atcute-oauth/internal/read-capped-body';

const decoder = new TextDecoder();

/**
 * the body of an answer broke off while it was read (a reset connection, a time limit): the
 * server's answer never arrived whole, which says nothing about what it would have been.
 */
export class BodyReadError extends Error {
	override name = 'BodyReadError';
}

/**
 * reads a JSON body of at most `maxBytes`; `undefined` when it is larger or not JSON. a stream that
 * breaks throws `BodyReadError` (its cause the stream's error): a cut answer is not a malformed one.
 * a server's answer is never read whole without a bound.
 */
export const readJsonBody = async (response: Response, maxBytes: number): Promise<unknown> => {
	const length = Number(response.headers.get('content-length') ?? Number.NaN);
	if (length > maxBytes || response.body === null) {
		await discardBody(response);
		return undefined;
	}
	let bytes: Uint8Array | undefined;
	try {
		bytes = await readCappedBody(response.body, maxBytes);
	} catch (err) {
		throw new BodyReadError('the answer broke off while it was read', { cause: err });
	}
	if (bytes === undefined) return undefined;
	try {
		return JSON.parse(decoder.decode(bytes));
	} catch {
		return undefined;
	}
};

/** cancels a body we will not read, so its connection is freed; a failed cancel changes nothing. */
export const discardBody = async (response: Response): Promise<void> => {
	await response.body?.cancel().catch(() => {});
};
