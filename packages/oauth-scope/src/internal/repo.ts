import { REPO_ACTIONS, type RepoPermission } from '../permission.ts';
import { checkList, Problem, sortUnique } from './check.ts';
import { writeScopeToken } from './encode.ts';
import { isNsidOrStar, NSID_OR_STAR } from './nsid.ts';
import { readParams, type ScopeSyntax } from './scope-syntax.ts';

const PARAMS = ['collection', 'action'];

const isRepoAction = (value: string): boolean => (REPO_ACTIONS as readonly string[]).includes(value);

/** checks and canonicalizes a repo permission's values. */
export const toRepoPermission = (
	collection: unknown,
	action: unknown = REPO_ACTIONS,
): RepoPermission | Problem => {
	const collections = checkList('collection', collection, isNsidOrStar, NSID_OR_STAR);
	if (collections instanceof Problem) {
		return collections;
	}
	const actions = checkList('action', action, isRepoAction, 'one of "create", "update", "delete"');
	if (actions instanceof Problem) {
		return actions;
	}
	return Object.freeze({
		resource: 'repo',
		collection: Object.freeze(collections.includes('*') ? ['*'] : sortUnique(collections)),
		action: Object.freeze(REPO_ACTIONS.filter((item) => actions.includes(item))),
	});
};

/** reads `repo:…`, or undefined when it is not a valid repo permission. */
export const readRepoPermission = (syntax: ScopeSyntax): RepoPermission | undefined => {
	const params = readParams(syntax, 'collection', PARAMS);
	const collection = params?.get('collection');
	if (collection === undefined) {
		return undefined;
	}
	const permission = toRepoPermission(collection, params!.get('action') ?? REPO_ACTIONS);
	return permission instanceof Problem ? undefined : permission;
};

/** writes a canonical repo permission: one collection positional, all actions (the default) left out. */
export const writeRepoPermission = (permission: RepoPermission): string => {
	const { collection, action } = permission;
	const params: [string, string][] = [];
	if (collection.length > 1) {
		for (const item of collection) params.push(['collection', item]);
	}
	if (action.length < REPO_ACTIONS.length) {
		for (const item of action) params.push(['action', item]);
	}
	return writeScopeToken('repo', collection.length === 1 ? collection[0] : undefined, params);
};
