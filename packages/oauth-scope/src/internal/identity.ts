import { IDENTITY_ATTRIBUTES, type IdentityPermission } from '../permission.ts';
import { checkOneOf, Problem } from './check.ts';
import { writeScopeToken } from './encode.ts';
import { readParams, type ScopeSyntax } from './scope-syntax.ts';

const PARAMS = ['attr'];

/** checks an identity permission's values. */
export const toIdentityPermission = (attr: unknown): IdentityPermission | Problem => {
	const attribute = checkOneOf('attr', attr, IDENTITY_ATTRIBUTES);
	if (attribute instanceof Problem) {
		return attribute;
	}
	return Object.freeze({ resource: 'identity', attr: attribute });
};

/** reads `identity:…`, or undefined when it is not a valid identity permission. */
export const readIdentityPermission = (syntax: ScopeSyntax): IdentityPermission | undefined => {
	const attr = readParams(syntax, 'attr', PARAMS)?.get('attr');
	if (attr?.length !== 1) {
		return undefined;
	}
	const permission = toIdentityPermission(attr[0]);
	return permission instanceof Problem ? undefined : permission;
};

/** writes an identity permission: the attribute positional. */
export const writeIdentityPermission = (permission: IdentityPermission): string => {
	return writeScopeToken('identity', permission.attr, []);
};
