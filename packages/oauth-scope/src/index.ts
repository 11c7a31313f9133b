export { allows } from './allows.ts';
export { formatScopeToken } from './format-scope-token.ts';
export { normalizeScope } from './normalize-scope.ts';
export { type ParsedScope, parseScope } from './parse-scope.ts';
export { parseScopeToken } from './parse-scope-token.ts';
export {
	ACCOUNT_ACTIONS,
	ACCOUNT_ATTRIBUTES,
	type AccountAction,
	type AccountAttribute,
	type AccountPermission,
	type AtprotoPermission,
	type BlobPermission,
	IDENTITY_ATTRIBUTES,
	type IdentityAttribute,
	type IdentityPermission,
	type IncludePermission,
	REPO_ACTIONS,
	type RepoAction,
	type RepoPermission,
	type RpcPermission,
	type ScopePermission,
	TRANSITION_NAMES,
	type TransitionName,
	type TransitionPermission,
} from './permission.ts';
export type {
	AccountRequest,
	BlobRequest,
	IdentityRequest,
	PermissionRequest,
	RepoRequest,
	RpcRequest,
} from './permission-request.ts';
export {
	type AccountScopeOptions,
	type BlobScopeOptions,
	type IdentityScopeOptions,
	type IncludeScopeOptions,
	type RepoScopeOptions,
	type RpcScopeOptions,
	type ScopeBuilders,
	scope,
} from './scope.ts';
export { ScopeSet } from './scope-set.ts';
