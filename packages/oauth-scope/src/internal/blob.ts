import type { BlobPermission } from '../permission.ts';
import { checkList, Problem, sortUnique } from './check.ts';
import { writeScopeToken } from './encode.ts';
import { ANY_MEDIA_TYPE, isAcceptPattern } from './mime.ts';
import { readParams, type ScopeSyntax } from './scope-syntax.ts';

const PARAMS = ['accept'];

/**
 * the canonical accept list: no entry another one covers, sorted. the case is kept as written: the
 * PDS compares a pattern with the upload's media type exactly, so `Image/*` and `image/*` grant
 * different uploads, and lower-casing one would make the token grant what the server refuses.
 */
const canonicalAccept = (accept: readonly string[]): readonly string[] => {
	const sorted = sortUnique(accept);
	if (sorted.includes(ANY_MEDIA_TYPE)) {
		return [ANY_MEDIA_TYPE];
	}
	// `image/png` adds nothing next to `image/*` (but `IMAGE/PNG` does). the types with a wildcard go
	// in a set first, so this stays linear in the number of values (a token may carry tens of
	// thousands of them)
	const wildcardTypes = new Set<string>();
	for (const item of sorted) {
		if (item.endsWith('/*')) wildcardTypes.add(item.slice(0, -2));
	}
	return sorted.filter((item) => item.endsWith('/*') || !wildcardTypes.has(item.slice(0, item.indexOf('/'))));
};

/** checks and canonicalizes a blob permission's values. */
export const toBlobPermission = (accept: unknown): BlobPermission | Problem => {
	const patterns = checkList(
		'accept',
		accept,
		isAcceptPattern,
		'a MIME type or pattern such as "image/png", "image/*" or "*/*"',
	);
	if (patterns instanceof Problem) {
		return patterns;
	}
	return Object.freeze({ resource: 'blob', accept: Object.freeze(canonicalAccept(patterns)) });
};

/** reads `blob:…`, or undefined when it is not a valid blob permission. */
export const readBlobPermission = (syntax: ScopeSyntax): BlobPermission | undefined => {
	const accept = readParams(syntax, 'accept', PARAMS)?.get('accept');
	if (accept === undefined) {
		return undefined;
	}
	const permission = toBlobPermission(accept);
	return permission instanceof Problem ? undefined : permission;
};

/** writes a canonical blob permission: one pattern positional, several as repeated params. */
export const writeBlobPermission = (permission: BlobPermission): string => {
	const { accept } = permission;
	if (accept.length === 1) {
		return writeScopeToken('blob', accept[0], []);
	}
	return writeScopeToken(
		'blob',
		undefined,
		accept.map((item) => ['accept', item] as const),
	);
};
