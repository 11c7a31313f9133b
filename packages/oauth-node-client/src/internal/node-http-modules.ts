import type * as http from 'node:http';
import type * as https from 'node:https';
import type * as stream from 'node:stream';
import type * as tls from 'node:tls';
import type * as zlib from 'node:zlib';

/** the node: modules the transport runs on. */
export interface NodeHttpModules {
	http: typeof http;
	https: typeof https;
	tls: typeof tls;
	zlib: typeof zlib;
	stream: typeof stream;
}

let loading: Promise<NodeHttpModules> | undefined;

/**
 * loads them on the first request, not at import: node:https (with tls) and node:zlib take
 * longer to load than the rest of the client, and an app may never send a request from this
 * process (a worker that only serves the metadata, a CLI that prints `--help`).
 */
export const loadNodeHttpModules = (): Promise<NodeHttpModules> => {
	loading ??= Promise.all([
		import('node:http'),
		import('node:https'),
		import('node:tls'),
		import('node:zlib'),
		import('node:stream'),
	]).then(
		([http, https, tls, zlib, stream]) => ({
			http: http.default,
			https: https.default,
			tls: tls.default,
			zlib: zlib.default,
			stream: stream.default,
		}),
		(err: unknown) => {
			// Workers before their 2025 node:http, say: a plain "No such module" would not say what to do
			throw new TypeError(
				'createNodeFetch needs node:http, node:https, node:tls, node:zlib and node:stream, and this runtime does not provide them all: use its global fetch (leave the fetch option to the facade, or pass globalThis.fetch)',
				{ cause: err },
			);
		},
	);
	return loading;
};
