import { ACCOUNT_ACTIONS, ACCOUNT_ATTRIBUTES, type AccountPermission } from '../permission.ts';
import { checkOneOf, Problem } from './check.ts';
import { writeScopeToken } from './encode.ts';
import { readParams, type ScopeSyntax } from './scope-syntax.ts';

const PARAMS = ['attr', 'action'];

/** checks an account permission's values. */
export const toAccountPermission = (attr: unknown, action: unknown = 'read'): AccountPermission | Problem => {
	const attribute = checkOneOf('attr', attr, ACCOUNT_ATTRIBUTES);
	if (attribute instanceof Problem) {
		return attribute;
	}
	const level = checkOneOf('action', action, ACCOUNT_ACTIONS);
	if (level instanceof Problem) {
		return level;
	}
	return Object.freeze({ resource: 'account', attr: attribute, action: level });
};

/** reads `account:…`, or undefined when it is not a valid account permission. */
export const readAccountPermission = (syntax: ScopeSyntax): AccountPermission | undefined => {
	const params = readParams(syntax, 'attr', PARAMS);
	const attr = params?.get('attr');
	if (attr?.length !== 1) {
		return undefined;
	}
	// the reference takes `action` as a list (`?action=read&action=manage`); manage includes read,
	// so the list means its strongest action
	const actions = params!.get('action') ?? ['read'];
	if (!actions.every((action) => (ACCOUNT_ACTIONS as readonly string[]).includes(action))) {
		return undefined;
	}
	const permission = toAccountPermission(attr[0], actions.includes('manage') ? 'manage' : 'read');
	return permission instanceof Problem ? undefined : permission;
};

/** writes an account permission: the attribute positional, `read` (the default) left out. */
export const writeAccountPermission = (permission: AccountPermission): string => {
	const { attr, action } = permission;
	return writeScopeToken('account', attr, action === 'read' ? [] : [['action', action]]);
};
