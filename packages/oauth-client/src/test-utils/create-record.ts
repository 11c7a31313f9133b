import type { OAuthSession } from '../oauth-session.ts';

/** the XRPC path of `com.atproto.repo.createRecord`, a write. */
export const CREATE_RECORD = '/xrpc/com.atproto.repo.createRecord';

/** a createRecord call with `body`, streamed as Node's fetch requires (`duplex`). */
export const createRecord = (
	session: OAuthSession,
	body: BodyInit,
	signal?: AbortSignal,
): Promise<Response> =>
	session.handle(CREATE_RECORD, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body,
		signal,
		// @ts-expect-error Node's fetch needs it for a stream; not in the DOM's RequestInit
		duplex: 'half',
	});

/** a body that can be sent once: a stream of a record's JSON. */
export const streamOf = (text: string): ReadableStream<Uint8Array> => {
	const bytes = new TextEncoder().encode(text);
	return new ReadableStream({
		start(controller) {
			controller.enqueue(bytes);
			controller.close();
		},
	});
};
