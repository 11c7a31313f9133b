import { readPermission, writePermission } from './internal/codec.ts';
import type { ScopePermission } from './permission.ts';

/** a scope string split into the permissions we understand and the tokens we do not. */
export interface ParsedScope {
	/** each permission once, ordered by canonical token (as `normalizeScope` writes them). */
	readonly permissions: readonly ScopePermission[];
	/** the tokens that are not valid permissions, once each, in the order given. */
	readonly unknown: readonly string[];
}

/**
 * parses a space-separated scope string. tokens that are not valid permissions go to `unknown`
 * instead of failing the whole scope: a party reading a granted scope skips what it cannot parse.
 * empty tokens (from repeated spaces) are ignored.
 * @see https://atproto.com/specs/permission#scope-string-syntax
 */
export const parseScope = (scope: string): ParsedScope => {
	if (typeof scope !== 'string') {
		throw new TypeError(`scope must be a string, got ${scope === null ? 'null' : typeof scope}`);
	}
	const byToken = new Map<string, ScopePermission>();
	const unknown = new Set<string>();
	for (const token of scope.split(' ')) {
		if (token === '') {
			continue;
		}
		const permission = readPermission(token);
		if (permission === undefined) {
			unknown.add(token);
		} else {
			byToken.set(writePermission(permission), permission);
		}
	}
	const permissions = [...byToken.keys()].sort().map((token) => byToken.get(token)!);
	return Object.freeze({ permissions: Object.freeze(permissions), unknown: Object.freeze([...unknown]) });
};
