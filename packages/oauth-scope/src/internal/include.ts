import type { IncludePermission } from '../permission.ts';
import { Problem, show } from './check.ts';
import { writeScopeToken } from './encode.ts';
import { isNsid } from './nsid.ts';
import { readParams, type ScopeSyntax } from './scope-syntax.ts';
import { isServiceRef } from './service-ref.ts';

const PARAMS = ['nsid', 'aud'];

/** checks an include scope's values. */
export const toIncludePermission = (nsid: unknown, aud: unknown): IncludePermission | Problem => {
	if (typeof nsid !== 'string' || !isNsid(nsid)) {
		return new Problem(`nsid ${show(nsid)} is not an NSID such as "app.bsky.authFullApp"`);
	}
	if (aud === undefined) {
		return Object.freeze({ resource: 'include', nsid });
	}
	// unlike rpc, no `*`: the audience is handed down to the set's rpc permissions
	if (typeof aud !== 'string' || !isServiceRef(aud)) {
		return new Problem(
			`aud ${show(aud)} is not a service reference such as "did:web:api.example.com#service_id"`,
		);
	}
	return Object.freeze({ resource: 'include', nsid, aud });
};

/** reads `include:…`, or undefined when it is not a valid include scope. */
export const readIncludePermission = (syntax: ScopeSyntax): IncludePermission | undefined => {
	const params = readParams(syntax, 'nsid', PARAMS);
	const nsid = params?.get('nsid');
	const aud = params?.get('aud');
	if (nsid?.length !== 1 || (aud !== undefined && aud.length !== 1)) {
		return undefined;
	}
	const permission = toIncludePermission(nsid[0], aud?.[0]);
	return permission instanceof Problem ? undefined : permission;
};

/** writes an include scope: the set's NSID positional, then the audience when there is one. */
export const writeIncludePermission = (permission: IncludePermission): string => {
	const { nsid, aud } = permission;
	return writeScopeToken('include', nsid, aud === undefined ? [] : [['aud', aud]]);
};
