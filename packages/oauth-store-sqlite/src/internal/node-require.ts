import { createRequire } from 'node:module';

let requireHere: NodeJS.Require | undefined;

/**
 * `require` from this package, made on first use rather than at import: where `import.meta.url`
 * is not a file URL (Cloudflare Workers), importing the package must still work.
 */
export const nodeRequire = (id: string): unknown => {
	requireHere ??= createRequire(import.meta.url);
	return requireHere(id);
};

/** `require.resolve` from this package, made on first use as `nodeRequire` is. */
export const nodeResolve = (id: string): string => {
	requireHere ??= createRequire(import.meta.url);
	return requireHere.resolve(id);
};
