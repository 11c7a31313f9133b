/**
 * whether a request body can be sent a second time: a stream (or any other one-shot body) is
 * consumed by the first send, so a retry would send nothing or fail.
 */
export const isReplayableBody = (body: RequestInit['body']): boolean => {
	return (
		body == null ||
		typeof body === 'string' ||
		body instanceof URLSearchParams ||
		body instanceof ArrayBuffer ||
		ArrayBuffer.isView(body) ||
		body instanceof Blob ||
		body instanceof FormData
	);
};
