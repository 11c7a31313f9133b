// the reference implementation, @atproto/oauth-scopes, seen through our types
import {
	isStaticScopeValue,
	normalizeAtprotoOauthScopeValue,
	AccountPermission as RefAccount,
	BlobPermission as RefBlob,
	IdentityPermission as RefIdentity,
	IncludeScope as RefInclude,
	RepoPermission as RefRepo,
	RpcPermission as RefRpc,
	ScopePermissionsTransition,
} from '@atproto/oauth-scopes';

import type { PermissionRequest } from '../permission-request.ts';

/** what the reference makes of one token: its canonical string, null (not valid), or a throw. */
export type ReferenceOutcome = { valid: true; canonical: string } | { valid: false; threw: boolean };

/** the reference's canonical form of a token (`normalizeAtprotoOauthScopeValue`). */
export const referenceNormalize = (token: string): ReferenceOutcome => {
	try {
		const canonical = normalizeAtprotoOauthScopeValue(token);
		return canonical === null ? { valid: false, threw: false } : { valid: true, canonical };
	} catch {
		// a malformed percent-escape in the positional part: decodeURIComponent throws a URIError
		return { valid: false, threw: true };
	}
};

/**
 * the fields of the reference's own parsed object for a token, as plain data in our shape (the
 * reference keeps `account` actions as a list; we give its strongest), or undefined.
 */
export const referenceFields = (token: string): object | undefined => {
	if (isStaticScopeValue(token)) {
		return token === 'atproto'
			? { resource: 'atproto' }
			: { resource: 'transition', name: token.slice('transition:'.length) };
	}
	const repo = RefRepo.fromString(token);
	if (repo) return { resource: 'repo', collection: [...repo.collection], action: [...repo.action] };
	const rpc = RefRpc.fromString(token);
	if (rpc) return { resource: 'rpc', lxm: [...rpc.lxm], aud: rpc.aud };
	const blob = RefBlob.fromString(token);
	if (blob) return { resource: 'blob', accept: [...blob.accept] };
	const account = RefAccount.fromString(token);
	if (account) {
		return {
			resource: 'account',
			attr: account.attr,
			action: account.action.includes('manage') ? 'manage' : 'read',
		};
	}
	const identity = RefIdentity.fromString(token);
	if (identity) return { resource: 'identity', attr: identity.attr };
	const include = RefInclude.fromString(token);
	if (include) {
		return include.aud === undefined
			? { resource: 'include', nsid: include.nsid }
			: { resource: 'include', nsid: include.nsid, aud: include.aud };
	}
	return undefined;
};

/** the reference's answer to a permission check (`ScopePermissionsTransition`). */
export const referenceAllows = (granted: string, request: PermissionRequest): boolean => {
	const permissions = new ScopePermissionsTransition(granted);
	switch (request.type) {
		case 'repo':
			return permissions.allowsRepo({ collection: request.collection, action: request.action });
		case 'rpc':
			return permissions.allowsRpc({ lxm: request.lxm, aud: request.aud });
		case 'blob':
			return permissions.allowsBlob({ mime: request.mime });
		case 'account':
			return permissions.allowsAccount({ attr: request.attr, action: request.action });
		case 'identity':
			return permissions.allowsIdentity({ attr: request.attr });
	}
};
