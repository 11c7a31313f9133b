import type { OAuthClientOptions as BaseOptions } from '@atcute/oauth-client';
import type { FetchFunction } from '@atcute/oauth-dpop';

import { allowList } from './internal/allow-list.ts';
import { lazyNodeTransport } from './internal/lazy-node-transport.ts';
import { refusingBadPorts } from './internal/refusing-bad-ports.ts';
import { type RuntimeFacts, usesNodeTransport } from './uses-node-transport.ts';

/**
 * `@atcute/oauth-client`'s options, plus what the Node transport adds. the options whose default
 * the facade changes are declared again here, so an editor shows the facade's defaults.
 */
export interface OAuthClientOptions extends BaseOptions {
	/**
	 * the fetch for every request to authorization servers and PDSes. default: on Node, the
	 * SSRF-guarded Node transport (`createNodeFetch()`, see `allowPrivateNetwork`); on Bun, Deno
	 * and Workers, `globalThis.fetch`, with the ports fetch blocks refused as on Node. yours wins
	 * everywhere when given.
	 */
	fetch?: BaseOptions['fetch'];
	/**
	 * > [!WARNING]
	 * > development only: allows plain-http PDSes and authorization servers (a local PDS), and
	 * > turns the built-in transport's SSRF guard off.
	 */
	allowHttp?: BaseOptions['allowHttp'];
	/**
	 * how the DPoP keys sign their proofs; default `createNodeSigner` (node:crypto, WebCrypto where it
	 * cannot take a key). the keyset's keys sign client assertions as they were imported (this
	 * package's `importJwkKey` gives them node:crypto).
	 */
	createSigner?: BaseOptions['createSigner'];
	/** how base64url SHA-256 is computed (PKCE challenges, the DPoP `ath`); default node:crypto's. */
	sha256?: BaseOptions['sha256'];
	/** an instrumentation hook around each operation; default `diagnosticsChannelTracer` (see `OAUTH_TRACING_CHANNELS`). */
	tracer?: BaseOptions['tracer'];
	/**
	 * which hosts the built-in transport may reach on non-public addresses (loopback, private,
	 * link-local, ...): `false` (default) none, `true` all, or a list of host names (an internal
	 * PDS, a test server on loopback). `allowHttp` turns the guard off altogether. give it to
	 * `createNodeFetch` instead when you pass your own `fetch`. on Bun, Deno and Workers there is
	 * no guard (the global `fetch` is used): anything but `true` is refused there with a TypeError.
	 */
	allowPrivateNetwork?: boolean | readonly string[] | undefined;
}

/**
 * the fetch an `OAuthClient` sends with: the user's, when given; else, on Node, a guarded
 * `createNodeFetch` (the guard off under `allowHttp`); else the global `fetch`, with the ports
 * fetch blocks refused before sending as the Node transport refuses them.
 * @param options the client's options: `fetch`, `allowPrivateNetwork` and `allowHttp` are read
 * @param runtime the runtime to choose for; default the one this runs on
 * @throws {TypeError} when `allowPrivateNetwork` is not valid, comes beside a `fetch` of the
 *   user's, or would narrow a guard this runtime's fetch does not have
 */
export const defaultTransport = (options: OAuthClientOptions, runtime?: RuntimeFacts): FetchFunction => {
	const { fetch, allowPrivateNetwork, allowHttp } = options;
	if (fetch !== undefined) {
		if (allowPrivateNetwork !== undefined) {
			// a guard the given fetch does not have would be a false sense of safety
			throw new TypeError(
				'allowPrivateNetwork applies to the built-in transport; with your own fetch, pass it to createNodeFetch({ allowPrivateNetwork }) instead',
			);
		}
		return fetch;
	}
	// checked here too, so a wrong value fails where the guard is not built (Bun, Deno)
	allowList(allowPrivateNetwork);
	if (!usesNodeTransport(runtime)) {
		// the global fetch has no guard to narrow: a list (or an explicit `false`) taken in silence
		// would read as a guard that is there. `true`, no guard, is what this runtime gives anyway
		if (allowPrivateNetwork !== undefined && allowPrivateNetwork !== true) {
			throw new TypeError(
				'allowPrivateNetwork narrows the SSRF guard of the Node transport, which this runtime (Bun, Deno, Workers) does not use: requests go through the global fetch, unguarded. Guard at the network level, and leave allowPrivateNetwork out',
			);
		}
		// the same refusal (`transient: false`) as on Node: Deno's own is read as a network failure
		// worth retrying, and Bun's fetch connects. looked up at each request, so a fetch installed
		// later (instrumentation, a test's mock) is the one that sends
		return refusingBadPorts((input, init) => globalThis.fetch(input, init));
	}
	// plain http is for a PDS on the developer's machine, which is on a private address anyway
	return lazyNodeTransport({
		allowPrivateNetwork: allowHttp === true ? true : (allowPrivateNetwork ?? false),
	});
};
