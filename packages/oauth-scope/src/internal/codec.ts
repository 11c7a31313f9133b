import {
	type AtprotoPermission,
	type ScopePermission,
	TRANSITION_NAMES,
	type TransitionPermission,
} from '../permission.ts';
import { readAccountPermission, toAccountPermission, writeAccountPermission } from './account.ts';
import { readBlobPermission, toBlobPermission, writeBlobPermission } from './blob.ts';
import { checkOneOf, Problem, show } from './check.ts';
import { readIdentityPermission, toIdentityPermission, writeIdentityPermission } from './identity.ts';
import { readIncludePermission, toIncludePermission, writeIncludePermission } from './include.ts';
import { readRepoPermission, toRepoPermission, writeRepoPermission } from './repo.ts';
import { readRpcPermission, toRpcPermission, writeRpcPermission } from './rpc.ts';
import { parseScopeSyntax } from './scope-syntax.ts';

const ATPROTO: AtprotoPermission = Object.freeze({ resource: 'atproto' });

// the static scopes, by their exact token
const STATIC = new Map<string, AtprotoPermission | TransitionPermission>([
	['atproto', ATPROTO],
	...TRANSITION_NAMES.map(
		(name) => [`transition:${name}`, Object.freeze({ resource: 'transition', name } as const)] as const,
	),
]);

/** reads one scope token, or undefined when it is not a permission we know. */
export const readPermission = (token: string): ScopePermission | undefined => {
	const fixed = STATIC.get(token);
	if (fixed !== undefined) {
		return fixed;
	}
	const syntax = parseScopeSyntax(token);
	switch (syntax?.resource) {
		case 'repo':
			return readRepoPermission(syntax);
		case 'rpc':
			return readRpcPermission(syntax);
		case 'blob':
			return readBlobPermission(syntax);
		case 'account':
			return readAccountPermission(syntax);
		case 'identity':
			return readIdentityPermission(syntax);
		case 'include':
			return readIncludePermission(syntax);
		default:
			return undefined;
	}
};

/** checks a permission object and returns its canonical form, or what is wrong with it. */
export const canonicalPermission = (permission: ScopePermission): ScopePermission | Problem => {
	if (typeof permission !== 'object' || permission === null) {
		return new Problem(`permission must be an object, got ${show(permission)}`);
	}
	switch (permission.resource) {
		case 'repo':
			return toRepoPermission(permission.collection, permission.action);
		case 'rpc':
			return toRpcPermission(permission.lxm, permission.aud);
		case 'blob':
			return toBlobPermission(permission.accept);
		case 'account':
			return toAccountPermission(permission.attr, permission.action);
		case 'identity':
			return toIdentityPermission(permission.attr);
		case 'include':
			return toIncludePermission(permission.nsid, permission.aud);
		case 'atproto':
			return ATPROTO;
		case 'transition': {
			const name = checkOneOf('name', permission.name, TRANSITION_NAMES);
			return name instanceof Problem ? name : STATIC.get(`transition:${name}`)!;
		}
		default:
			return new Problem(`resource ${show((permission as { resource: unknown }).resource)} is not known`);
	}
};

/** writes a canonical permission as its canonical scope token. */
export const writePermission = (permission: ScopePermission): string => {
	switch (permission.resource) {
		case 'repo':
			return writeRepoPermission(permission);
		case 'rpc':
			return writeRpcPermission(permission);
		case 'blob':
			return writeBlobPermission(permission);
		case 'account':
			return writeAccountPermission(permission);
		case 'identity':
			return writeIdentityPermission(permission);
		case 'include':
			return writeIncludePermission(permission);
		case 'atproto':
			return 'atproto';
		case 'transition':
			return `transition:${permission.name}`;
	}
};
