import { ACCOUNT_ACTIONS, ACCOUNT_ATTRIBUTES, IDENTITY_ATTRIBUTES, REPO_ACTIONS } from '../permission.ts';
import type { PermissionRequest } from '../permission-request.ts';
import { checkOneOf, Problem, show } from './check.ts';

/** a request's string field, or a TypeError naming it. */
const checkString = (type: string, field: string, value: unknown): void => {
	if (typeof value !== 'string') {
		throw new TypeError(`${type} request ${field} must be a string, got ${show(value)}`);
	}
};

/** a request's field that takes one of a few values, or a TypeError naming it. */
const checkEnum = (type: string, field: string, value: unknown, allowed: readonly string[]): void => {
	const checked = checkOneOf(`${type} request ${field}`, value, allowed);
	if (checked instanceof Problem) {
		throw new TypeError(checked.message);
	}
};

/**
 * checks that `request` has the fields its `type` needs, of the right types and values, so a
 * missing or misspelt field is refused rather than answered: `{ type: 'repo' }` would otherwise
 * be allowed by `transition:generic`, and an action `delete` by `account:email?action=manage`. only
 * types and the fixed sets of values are checked, so no answer to a well-formed request changes:
 * a collection, method, service or media type that no grant names is simply not allowed.
 * @throws {TypeError} naming the field, what it must be and what it is
 */
export const checkRequest = (request: unknown): PermissionRequest => {
	if (typeof request !== 'object' || request === null) {
		throw new TypeError(`request must be an object, got ${show(request)}`);
	}
	const fields = request as Record<string, unknown>;
	switch (fields.type) {
		case 'repo':
			checkString('repo', 'collection', fields.collection);
			checkEnum('repo', 'action', fields.action, REPO_ACTIONS);
			break;
		case 'rpc':
			checkString('rpc', 'lxm', fields.lxm);
			checkString('rpc', 'aud', fields.aud);
			break;
		case 'blob':
			checkString('blob', 'mime', fields.mime);
			break;
		case 'account':
			checkEnum('account', 'attr', fields.attr, ACCOUNT_ATTRIBUTES);
			checkEnum('account', 'action', fields.action, ACCOUNT_ACTIONS);
			break;
		case 'identity':
			checkEnum('identity', 'attr', fields.attr, IDENTITY_ATTRIBUTES);
			break;
		default:
			throw new TypeError(`request type ${show(fields.type)} is not known`);
	}
	return request as PermissionRequest;
};
