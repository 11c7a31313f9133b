import type { OAuthClientOptions as BaseOptions } from '@atcute/oauth-client';
import type { FetchFunction } from '@atcute/oauth-dpop';

import { allowList } from './internal/allow-list.ts';
import { createNodeTransport } from './internal/node-transport.ts';
import { type RuntimeFacts, usesNodeTransport } from './uses-node-transport.ts';

/** `@atcute/oauth-client`'s options, plus what the Node transport adds. */
export interface OAuthClientOptions extends BaseOptions {
	/**
	 * which hosts the built-in transport may reach on non-public addresses (loopback, private,
	 * link-local, ...): `false` (default) none, `true` all, or a list of host names (an internal
	 * PDS, a test server on loopback). `allowHttp` turns the guard off altogether. give it to
	 * `createNodeFetch` instead when you pass your own `fetch`.
	 */
	allowPrivateNetwork?: boolean | readonly string[] | undefined;
}

/**
 * the fetch an `OAuthClient` sends with: the user's, when given; else, on Node, a guarded
 * `createNodeFetch` (the guard off under `allowHttp`); else the global `fetch`.
 */
export const defaultTransport = (
	options: OAuthClientOptions,
	runtime?: RuntimeFacts,
): FetchFunction | undefined => {
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
	if (!usesNodeTransport(runtime)) return undefined;
	// plain http is for a PDS on the developer's machine, which is on a private address anyway
	return createNodeTransport({
		allowPrivateNetwork: allowHttp === true ? true : (allowPrivateNetwork ?? false),
	});
};
