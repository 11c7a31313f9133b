import { readPermission } from './internal/codec.ts';
import type { ScopePermission } from './permission.ts';

/**
 * parses one scope token (`repo:app.bsky.feed.post?action=create`) into its permission, with
 * values in canonical form (sorted, de-duplicated, defaults filled in). returns undefined for a
 * token that is not a valid permission: unknown resource, unknown or repeated parameter, bad value,
 * or not printable ASCII.
 * @see https://atproto.com/specs/permission#scope-string-syntax
 */
export const parseScopeToken = (token: string): ScopePermission | undefined => {
	if (typeof token !== 'string') {
		throw new TypeError(`scope token must be a string, got ${token === null ? 'null' : typeof token}`);
	}
	return readPermission(token);
};
