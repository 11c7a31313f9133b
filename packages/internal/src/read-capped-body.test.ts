import { describe, expect, it } from 'vitest';

import { readCappedBody } from './read-capped-body.ts';

const encoder = new TextEncoder();

/** a stream of the given chunks that records whether it was cancelled. */
const streamOf = (chunks: string[]) => {
	const state = { cancelled: false, pulled: 0 };
	const stream = new ReadableStream<Uint8Array>({
		pull(controller) {
			const chunk = chunks[state.pulled++];
			if (chunk === undefined) controller.close();
			else controller.enqueue(encoder.encode(chunk));
		},
		cancel() {
			state.cancelled = true;
		},
	});
	return { stream, state };
};

describe('readCappedBody', () => {
	it('joins the chunks of a body within the cap', async () => {
		const { stream } = streamOf(['{"a":', '1}']);
		const bytes = await readCappedBody(stream, 7);
		expect(new TextDecoder().decode(bytes)).toBe('{"a":1}');
	});

	it('gives an empty body as zero bytes', async () => {
		const { stream } = streamOf([]);
		expect(await readCappedBody(stream, 1)).toEqual(new Uint8Array(0));
	});

	it('stops reading and cancels the stream one byte past the cap', async () => {
		const { stream, state } = streamOf(['1234', '5678', '9', 'never read']);
		expect(await readCappedBody(stream, 8)).toBeUndefined();
		expect(state.cancelled).toBe(true);
		expect(state.pulled).toBe(3);
	});

	it('does not hang on an oversize clone whose other branch is never read', async () => {
		const response = new Response(encoder.encode('x'.repeat(100)));
		const clone = response.clone();
		expect(await readCappedBody(clone.body!, 10)).toBeUndefined();
		// the original is still whole for its owner
		expect((await response.text()).length).toBe(100);
	});

	it("rejects with the stream's error, such as an abort reason", async () => {
		const reason = new Error('user left');
		const stream = new ReadableStream<Uint8Array>({
			start(controller) {
				controller.enqueue(encoder.encode('part'));
				controller.error(reason);
			},
		});
		await expect(readCappedBody(stream, 100)).rejects.toBe(reason);
	});
});
