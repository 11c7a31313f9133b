/** the runtime facts the choice of transport depends on. */
export interface RuntimeFacts {
	/** the runtime's `process.versions` (`bun` or `deno` there besides `node`); undefined without `process`. */
	versions: Record<string, string | undefined> | undefined;
	/** `navigator.userAgent` (`Cloudflare-Workers` on Workers); undefined without one. */
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
