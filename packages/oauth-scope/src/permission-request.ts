import type { AccountAction, AccountAttribute, IdentityAttribute, RepoAction } from './permission.ts';

/** writing a record of a collection. */
export interface RepoRequest {
	/** the kind of request, a record write: what `repo:` permissions allow. */
	readonly type: 'repo';
	/** the collection NSID. */
	readonly collection: string;
	/** the write: `create`, `update` or `delete`. */
	readonly action: RepoAction;
}

/** a service-authenticated call of a method on a service. */
export interface RpcRequest {
	/** the kind of request, a service-authenticated call: what `rpc:` permissions allow. */
	readonly type: 'rpc';
	/** the method NSID. */
	readonly lxm: string;
	/** the service, as `did:…#service_id`. */
	readonly aud: string;
}

/** uploading a blob of a media type. */
export interface BlobRequest {
	/** the kind of request, a blob upload: what `blob:` permissions allow. */
	readonly type: 'blob';
	/** the blob's media type, such as `image/png`, as the upload's `Content-Type` sends it; compared exactly, case included, as the PDS does. */
	readonly mime: string;
}

/** reading or managing an account attribute. */
export interface AccountRequest {
	/** the kind of request, an account attribute: what `account:` permissions allow. */
	readonly type: 'account';
	/** the account attribute. */
	readonly attr: AccountAttribute;
	/** `read` it or `manage` it; a `manage` grant allows both. */
	readonly action: AccountAction;
}

/** changing an identity attribute. */
export interface IdentityRequest {
	/** the kind of request, an identity change: what `identity:` permissions allow. */
	readonly type: 'identity';
	/** the identity attribute to change; `*` (all of them) is allowed only by an `identity:*` grant. */
	readonly attr: IdentityAttribute;
}

/** something a client wants to do, to be checked against a granted scope. */
export type PermissionRequest = RepoRequest | RpcRequest | BlobRequest | AccountRequest | IdentityRequest;
