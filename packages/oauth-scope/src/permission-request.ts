import type { AccountAction, AccountAttribute, IdentityAttribute, RepoAction } from './permission.ts';

/** writing a record of a collection. */
export interface RepoRequest {
	readonly type: 'repo';
	/** the collection NSID. */
	readonly collection: string;
	readonly action: RepoAction;
}

/** a service-authenticated call of a method on a service. */
export interface RpcRequest {
	readonly type: 'rpc';
	/** the method NSID. */
	readonly lxm: string;
	/** the service, as `did:…#service_id`. */
	readonly aud: string;
}

/** uploading a blob of a media type. */
export interface BlobRequest {
	readonly type: 'blob';
	/** the blob's media type, such as `image/png`, as the upload's `Content-Type` sends it; compared exactly, case included, as the PDS does. */
	readonly mime: string;
}

/** reading or managing an account attribute. */
export interface AccountRequest {
	readonly type: 'account';
	readonly attr: AccountAttribute;
	readonly action: AccountAction;
}

/** changing an identity attribute. */
export interface IdentityRequest {
	readonly type: 'identity';
	readonly attr: IdentityAttribute;
}

/** something a client wants to do, to be checked against a granted scope. */
export type PermissionRequest = RepoRequest | RpcRequest | BlobRequest | AccountRequest | IdentityRequest;
