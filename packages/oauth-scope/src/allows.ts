import type { ParsedScope } from './parse-scope.ts';
import type { PermissionRequest } from './permission-request.ts';
import { ScopeSet } from './scope-set.ts';

/**
 * how many granted scope strings `allows` keeps parsed. an app sees few distinct grants (one per
 * version of its requested scope, give or take what users declined), so this covers them; past it,
 * the oldest entry goes.
 */
const PARSED_GRANTS_MAX = 64;

const byString = new Map<string, ScopeSet>();
const byParsed = new WeakMap<ParsedScope, ScopeSet>();

const scopeSetOf = (granted: string | ParsedScope): ScopeSet => {
	if (typeof granted === 'string') {
		let set = byString.get(granted);
		if (set === undefined) {
			set = new ScopeSet(granted);
			if (byString.size >= PARSED_GRANTS_MAX) {
				byString.delete(byString.keys().next().value!);
			}
			byString.set(granted, set);
		}
		return set;
	}
	let set = byParsed.get(granted);
	if (set === undefined) {
		set = new ScopeSet(granted);
		byParsed.set(granted, set);
	}
	return set;
};

/**
 * whether a granted scope allows a request, with the reference implementation's rules
 * (`transition:generic` and friends included). the grant is parsed once and kept: pass the same
 * string or parsed scope again and the check is a few map lookups. unparsable tokens in the grant
 * are skipped.
 * @throws {TypeError} when `request.type` is not a known resource
 * @see https://atproto.com/specs/permission
 */
export const allows = (granted: string | ParsedScope | ScopeSet, request: PermissionRequest): boolean => {
	const set = granted instanceof ScopeSet ? granted : scopeSetOf(granted);
	return set.allows(request);
};
