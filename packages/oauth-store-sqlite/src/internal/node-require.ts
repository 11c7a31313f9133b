import { createRequire } from 'node:module';

let made: NodeJS.Require | undefined;

/**
 * `require` from this package, made on first use rather than at import: where `import.meta.url`
 * is not a file URL (Cloudflare Workers), importing the package must still work.
 */
const requireHere = (): NodeJS.Require => {
	made ??= createRequire(import.meta.url);
	return made;
};

/** a module loaded with this package's `require`. */
export const nodeRequire = (id: string): unknown => requireHere()(id);

/** a module's file, as this package's `require` resolves it. */
export const nodeResolve = (id: string): string => requireHere().resolve(id);
