import { readPermission, writePermission } from './internal/codec.ts';

/**
 * the canonical form of a scope string: each token in canonical form, without repeats, sorted by
 * UTF-16 code units (the order of the reference implementation's `normalizeAtprotoOauthScope`,
 * which does not drop repeats), joined by single spaces. tokens that are not valid permissions
 * are dropped, as the reference does.
 * @see https://atproto.com/specs/permission#scope-string-syntax
 */
export const normalizeScope = (scope: string): string => {
	if (typeof scope !== 'string') {
		throw new TypeError(`scope must be a string, got ${scope === null ? 'null' : typeof scope}`);
	}
	const tokens = new Set<string>();
	for (const token of scope.split(' ')) {
		const permission = token === '' ? undefined : readPermission(token);
		if (permission !== undefined) {
			tokens.add(writePermission(permission));
		}
	}
	return [...tokens].sort().join(' ');
};
