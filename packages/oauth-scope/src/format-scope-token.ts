import { Problem } from './internal/check.ts';
import { canonicalPermission, writePermission } from './internal/codec.ts';
import type { ScopePermission } from './permission.ts';

/**
 * formats a permission as its canonical scope token: one array value positional, several as
 * repeated params, defaults left out, arrays sorted and de-duplicated.
 * @throws {TypeError} when the permission is not valid; the message names the field and value
 * @see https://atproto.com/specs/permission#scope-string-syntax
 */
export const formatScopeToken = (permission: ScopePermission): string => {
	const canonical = canonicalPermission(permission);
	if (canonical instanceof Problem) {
		throw new TypeError(`formatScopeToken: ${canonical.message}`);
	}
	return writePermission(canonical);
};
