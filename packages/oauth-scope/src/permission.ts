/** what a `repo:` permission lets the client do to records. */
export type RepoAction = 'create' | 'update' | 'delete';

/** the account attributes an `account:` permission can name. */
export type AccountAttribute = 'email' | 'repo' | 'status';

/** what an `account:` permission allows; `manage` includes `read`. */
export type AccountAction = 'read' | 'manage';

/** the identity attributes an `identity:` permission can name; `*` is all of them. */
export type IdentityAttribute = 'handle' | '*';

/** the transitional scopes, without their `transition:` prefix. */
export type TransitionName = 'generic' | 'chat.bsky' | 'email';

/** every repo action, in canonical order; the default when a `repo:` permission names none. */
export const REPO_ACTIONS: readonly RepoAction[] = Object.freeze(['create', 'update', 'delete']);

/** every account attribute. */
export const ACCOUNT_ATTRIBUTES: readonly AccountAttribute[] = Object.freeze(['email', 'repo', 'status']);

/** every account action. */
export const ACCOUNT_ACTIONS: readonly AccountAction[] = Object.freeze(['read', 'manage']);

/** every identity attribute. */
export const IDENTITY_ATTRIBUTES: readonly IdentityAttribute[] = Object.freeze(['handle', '*']);

/** every transitional scope name. */
export const TRANSITION_NAMES: readonly TransitionName[] = Object.freeze(['generic', 'chat.bsky', 'email']);

/**
 * write access to records of some collections.
 * @see https://atproto.com/specs/permission#repo
 */
export interface RepoPermission {
	/** the kind of permission: a `repo:` token. */
	readonly resource: 'repo';
	/** NSIDs, sorted and unique, or exactly `['*']` for every collection. */
	readonly collection: readonly string[];
	/** the allowed actions, unique and in the order create, update, delete. */
	readonly action: readonly RepoAction[];
}

/**
 * service-authenticated calls to some methods of a remote service.
 * @see https://atproto.com/specs/permission#rpc
 */
export interface RpcPermission {
	/** the kind of permission: an `rpc:` token. */
	readonly resource: 'rpc';
	/** method NSIDs, sorted and unique, or exactly `['*']` for every method. */
	readonly lxm: readonly string[];
	/** the service, as `did:…#service_id`, or `*` for any service. */
	readonly aud: string;
}

/**
 * uploads of blobs of some media types.
 * @see https://atproto.com/specs/permission#blob
 */
export interface BlobPermission {
	/** the kind of permission: a `blob:` token. */
	readonly resource: 'blob';
	/** MIME types and `type/` wildcard patterns, in their case as written (matched exactly), sorted and unique; the match-all pattern stands alone. */
	readonly accept: readonly string[];
}

/**
 * access to an account attribute.
 * @see https://atproto.com/specs/permission#account
 */
export interface AccountPermission {
	/** the kind of permission: an `account:` token. */
	readonly resource: 'account';
	/** the account attribute it covers. */
	readonly attr: AccountAttribute;
	/** what it allows on the attribute: `read`, or `manage` (which includes `read`). */
	readonly action: AccountAction;
}

/**
 * control of the account's identity (handle, DID document).
 * @see https://atproto.com/specs/permission#identity
 */
export interface IdentityPermission {
	/** the kind of permission: an `identity:` token. */
	readonly resource: 'identity';
	/** the identity attribute it covers: `handle`, or `*` for all of them. */
	readonly attr: IdentityAttribute;
}

/**
 * a reference to a permission set, which the authorization server expands.
 * @see https://atproto.com/specs/permission#permission-sets
 */
export interface IncludePermission {
	/** the kind of permission: an `include:` token. */
	readonly resource: 'include';
	/** the NSID of the permission set. */
	readonly nsid: string;
	/** the service its `inheritAud` rpc permissions are for, as `did:…#service_id`. */
	readonly aud?: string;
}

/**
 * the `atproto` scope every atproto OAuth request must contain.
 * @see https://atproto.com/specs/oauth#scopes
 */
export interface AtprotoPermission {
	/** the kind of permission: the `atproto` token. */
	readonly resource: 'atproto';
}

/**
 * a transitional scope: `transition:generic`, `transition:chat.bsky` or `transition:email`.
 * @see https://atproto.com/specs/oauth#scopes
 */
export interface TransitionPermission {
	/** the kind of permission: a `transition:` token. */
	readonly resource: 'transition';
	/** which transitional scope, without its `transition:` prefix. */
	readonly name: TransitionName;
}

/** one parsed scope token, told apart by `resource`. */
export type ScopePermission =
	| RepoPermission
	| RpcPermission
	| BlobPermission
	| AccountPermission
	| IdentityPermission
	| IncludePermission
	| AtprotoPermission
	| TransitionPermission;
