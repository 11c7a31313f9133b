import type { RpcPermission } from '../permission.ts';
import { checkList, Problem, show, sortUnique } from './check.ts';
import { writeScopeToken } from './encode.ts';
import { isNsidOrStar, NSID_OR_STAR } from './nsid.ts';
import { readParams, type ScopeSyntax } from './scope-syntax.ts';
import { isServiceRef } from './service-ref.ts';

const PARAMS = ['lxm', 'aud'];

/** checks and canonicalizes an rpc permission's values. */
export const toRpcPermission = (lxm: unknown, aud: unknown): RpcPermission | Problem => {
	const methods = checkList('lxm', lxm, isNsidOrStar, NSID_OR_STAR);
	if (methods instanceof Problem) {
		return methods;
	}
	if (typeof aud !== 'string' || (aud !== '*' && !isServiceRef(aud))) {
		return new Problem(
			`aud ${show(aud)} is not "*" or a service reference such as "did:web:api.example.com#service_id"`,
		);
	}
	// the spec forbids one permission for every method of every service
	if (aud === '*' && methods.includes('*')) {
		return new Problem('lxm "*" together with aud "*" is not allowed: name the methods or the service');
	}
	return Object.freeze({
		resource: 'rpc',
		lxm: Object.freeze(methods.includes('*') ? ['*'] : sortUnique(methods)),
		aud,
	});
};

/** reads `rpc:…`, or undefined when it is not a valid rpc permission. */
export const readRpcPermission = (syntax: ScopeSyntax): RpcPermission | undefined => {
	const params = readParams(syntax, 'lxm', PARAMS);
	const lxm = params?.get('lxm');
	const aud = params?.get('aud');
	if (lxm === undefined || aud?.length !== 1) {
		return undefined;
	}
	const permission = toRpcPermission(lxm, aud[0]);
	return permission instanceof Problem ? undefined : permission;
};

/** writes a canonical rpc permission: one method positional, then the audience. */
export const writeRpcPermission = (permission: RpcPermission): string => {
	const { lxm, aud } = permission;
	const params: [string, string][] = [];
	if (lxm.length > 1) {
		for (const item of lxm) params.push(['lxm', item]);
	}
	params.push(['aud', aud]);
	return writeScopeToken('rpc', lxm.length === 1 ? lxm[0] : undefined, params);
};
