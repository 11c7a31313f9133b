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
/** scope sets for parsed scopes that can never change (see `isImmutable`). */
const byParsed = new WeakMap<ParsedScope, ScopeSet>();

/**
 * whether `value` is plain data that can never change: a primitive, or a frozen plain object or
 * array whose own properties are all data properties holding such values, at most `depth` levels
 * down. freezing cannot be undone, so a parsed scope that passes can key a cache for good; one the
 * caller may still change (`permissions.pop()`) must be read afresh on every call. a parsed scope
 * holds objects four levels deep: the scope, its `permissions`, each permission, and a
 * permission's lists (of strings). the limit also ends a frozen object that holds itself.
 */
const isImmutable = (value: unknown, depth: number): boolean => {
	if (typeof value !== 'object' || value === null) {
		return typeof value !== 'function';
	}
	if (depth === 0 || !Object.isFrozen(value)) {
		return false;
	}
	const proto = Object.getPrototypeOf(value);
	if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
		return false;
	}
	for (const key of Reflect.ownKeys(value)) {
		const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
		// a getter could answer differently next time
		if (!('value' in descriptor) || !isImmutable(descriptor.value, depth - 1)) {
			return false;
		}
	}
	return true;
};

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
	// a hit is a scope that was immutable when it went in, and so still is
	let set = byParsed.get(granted);
	if (set === undefined) {
		set = new ScopeSet(granted);
		if (isImmutable(granted, 4)) {
			byParsed.set(granted, set);
		}
	}
	return set;
};

/**
 * whether a granted scope allows a request, with the reference implementation's rules
 * (`transition:generic` and friends included). the grant is parsed once and kept: pass the same
 * string, or the same frozen parsed scope (as `parseScope` returns), again and the check is a few
 * map lookups; a parsed scope that is not frozen all the way down is read afresh on each call, so
 * changing it in place is seen. unparsable tokens in the grant are skipped.
 * @throws {TypeError} when `request` is not an object, `request.type` is not a known resource, or a
 * field that type needs is missing or not one of the allowed values
 * @see https://atproto.com/specs/permission
 */
export const allows = (granted: string | ParsedScope | ScopeSet, request: PermissionRequest): boolean => {
	const set = granted instanceof ScopeSet ? granted : scopeSetOf(granted);
	return set.allows(request);
};
