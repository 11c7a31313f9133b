import { bodyAbortErrorOf } from './abort-reason.ts';
import type { NodeHttpModules } from './node-http-modules.ts';

/** node:stream's check that a stream (web streams too) has been read from or cancelled. */
type IsDisturbed = NodeHttpModules['stream']['Readable']['isDisturbed'];

/** status line and headers as node:http gives them: `rawHeaders` is a flat [name, value, ...] list. */
export interface ArrivedHead {
	status: number;
	statusText: string;
	rawHeaders: readonly string[];
}

/** the constructor of `ArrivedResponse` (the class itself is made on first use). */
type ArrivedResponseClass = new (
	isDisturbed: IsDisturbed,
	bytes: Uint8Array<ArrayBuffer>,
	head: ArrivedHead,
	url: string,
	signal: AbortSignal | null | undefined,
) => Response;

/**
 * a standard `Response` whose whole body had already arrived with its headers (the common case
 * for an XRPC answer): the bytes are kept as they are and turned into a `ReadableStream` only when
 * someone asks for `body`. on Node 20 a web stream costs tens of microseconds to build and as much
 * again to read through `json()`, more than the rest of the request; `json()`, `text()`,
 * `arrayBuffer()` and `blob()` on an untouched body skip it. everything else (`body`, `clone()`,
 * `bodyUsed`, `formData()`) behaves as on any `Response`. as fetch's body, it fails with the
 * request signal's reason when read after an abort.
 */
const define = (): ArrivedResponseClass => {
	class ArrivedResponse extends Response {
		/** the body while no stream was made of it; null once read or handed to a stream. */
		#bytes: Uint8Array<ArrayBuffer> | null;
		#stream: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;
		#used = false;
		readonly #head: ArrivedHead;
		readonly #url: string;
		readonly #isDisturbed: IsDisturbed;
		readonly #signal: AbortSignal | null | undefined;

		constructor(
			isDisturbed: IsDisturbed,
			bytes: Uint8Array<ArrayBuffer>,
			head: ArrivedHead,
			url: string,
			signal: AbortSignal | null | undefined,
		) {
			// the body is ours to give: the base class holds none. the headers are appended one by
			// one: on Node 20 that costs less than handing the list to the constructor, whose
			// WebIDL conversion of a list of pairs is the dearest part of building a Response
			super(null, { status: head.status, statusText: head.statusText });
			const headers = this.headers;
			const raw = head.rawHeaders;
			for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
			this.#bytes = bytes;
			this.#head = head;
			this.#url = url;
			this.#isDisturbed = isDisturbed;
			this.#signal = signal;
		}

		/** what fetch would report: the URL this response came from. */
		override get url(): string {
			return this.#url;
		}

		/** what a plain `Response` over the same status and headers is made with. */
		get #init(): ResponseInit {
			return { status: this.#head.status, statusText: this.#head.statusText, headers: this.headers };
		}

		override get body(): ReadableStream<Uint8Array<ArrayBuffer>> {
			if (this.#stream === undefined) {
				const bytes = this.#bytes;
				this.#bytes = null;
				const signal = this.#signal;
				// filled on the first read (a high-water mark of 0), so that a read after an abort fails
				this.#stream = new ReadableStream<Uint8Array<ArrayBuffer>>(
					{
						pull(controller) {
							if (signal?.aborted) return controller.error(bodyAbortErrorOf(signal));
							if (bytes !== null && bytes.byteLength > 0) controller.enqueue(bytes);
							controller.close();
						},
					},
					{ highWaterMark: 0 },
				);
			}
			return this.#stream;
		}

		override get bodyUsed(): boolean {
			return this.#used || (this.#stream !== undefined && this.#isDisturbed(this.#stream as never));
		}

		/** the bytes, marked as read; or, once a stream was made, a plain `Response` to read it. */
		#take(): Uint8Array<ArrayBuffer> | Response {
			if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
			if (this.#stream !== undefined) return new Response(this.#stream, this.#init);
			// as fetch's body: an abort fails a body not yet read, even one that had arrived
			if (this.#signal?.aborted) throw bodyAbortErrorOf(this.#signal);
			this.#used = true;
			const bytes = this.#bytes!;
			this.#bytes = null;
			return bytes;
		}

		override async arrayBuffer(): Promise<ArrayBuffer> {
			const taken = this.#take();
			if (taken instanceof Response) return taken.arrayBuffer();
			// a copy of exactly the body's bytes (the buffer under them may be shared)
			return taken.buffer.slice(taken.byteOffset, taken.byteOffset + taken.byteLength);
		}

		override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
			return new Uint8Array(await this.arrayBuffer());
		}

		override async text(): Promise<string> {
			const taken = this.#take();
			if (taken instanceof Response) return taken.text();
			return new TextDecoder().decode(taken);
		}

		override async json(): Promise<unknown> {
			const taken = this.#take();
			if (taken instanceof Response) return taken.json();
			return JSON.parse(new TextDecoder().decode(taken));
		}

		override async blob(): Promise<Blob> {
			const taken = this.#take();
			if (taken instanceof Response) return taken.blob();
			const type = this.headers.get('content-type');
			return new Blob([taken], type === null ? {} : { type });
		}

		override async formData(): Promise<FormData> {
			const taken = this.#take();
			if (taken instanceof Response) return taken.formData();
			return new Response(taken, this.#init).formData();
		}

		override clone(): Response {
			if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
			let copy: Response;
			if (this.#stream === undefined) {
				copy = new ArrivedResponse(this.#isDisturbed, this.#bytes!, this.#head, this.#url, this.#signal);
			} else {
				// as fetch does: the stream is teed, one branch each
				const [mine, theirs] = this.#stream.tee();
				this.#stream = mine;
				copy = new Response(theirs, this.#init);
				Object.defineProperty(copy, 'url', { value: this.url });
			}
			if (this.redirected) Object.defineProperty(copy, 'redirected', { value: true });
			return copy;
		}
	}
	return ArrivedResponse;
};

/** the class, made on first use: naming `Response` at import would load Node's fetch (undici). */
let defined: ArrivedResponseClass | undefined;
export const arrivedResponseClass = (): ArrivedResponseClass => {
	defined ??= define();
	return defined;
};

/** a `Response` over a body that has wholly arrived (see above). */
export const createArrivedResponse = (
	isDisturbed: IsDisturbed,
	bytes: Uint8Array<ArrayBuffer>,
	head: ArrivedHead,
	url: string,
	signal?: AbortSignal | null,
): Response => {
	const ArrivedResponse = arrivedResponseClass();
	return new ArrivedResponse(isDisturbed, bytes, head, url, signal);
};
