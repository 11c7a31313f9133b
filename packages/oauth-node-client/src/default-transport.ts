import type { OAuthClientOptions as BaseOptions } from '@atcute/oauth-client';
import type { FetchFunction } from '@atcute/oauth-dpop';

import { createNodeFetch } from './create-node-fetch.ts';

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

/** the runtime facts the choice of transport depends on. */
export interface RuntimeFacts {
	versions: Record<string, string | undefined> | undefined;
	userAgent: string | undefined;
}

const currentRuntime = (): RuntimeFacts => ({
	versions: typeof process === 'undefined' ? undefined : process.versions,
	userAgent: (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent,
});

/**
 * whether the node:http transport is the one to use: on Node itself, yes; on Bun and Deno (whose
 * Node compatibility emulates node:http on top of their own fetch, so nothing is gained) and on
 * Cloudflare Workers, no: there the global `fetch` is used.
 */
export const usesNodeTransport = (runtime: RuntimeFacts = currentRuntime()): boolean => {
	const { versions, userAgent } = runtime;
	if (typeof versions?.node !== 'string') return false;
	if (versions.bun !== undefined || versions.deno !== undefined) return false;
	return userAgent !== 'Cloudflare-Workers';
};

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
	if (
		allowPrivateNetwork !== undefined &&
		typeof allowPrivateNetwork !== 'boolean' &&
		!(
			Array.isArray(allowPrivateNetwork) &&
			allowPrivateNetwork.every((host) => typeof host === 'string' && host !== '')
		)
	) {
		throw new TypeError('allowPrivateNetwork must be true, false or a list of host names');
	}
	if (!usesNodeTransport(runtime)) return undefined;
	// plain http is for a PDS on the developer's machine, which is on a private address anyway
	return createNodeFetch({ allowPrivateNetwork: allowHttp === true ? true : (allowPrivateNetwork ?? false) });
};
