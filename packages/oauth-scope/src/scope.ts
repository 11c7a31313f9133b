import { Problem, show } from './internal/check.ts';
import { canonicalPermission, writePermission } from './internal/codec.ts';
import type {
	AccountAction,
	AccountAttribute,
	IdentityAttribute,
	RepoAction,
	ScopePermission,
} from './permission.ts';

/** options for `scope.include`. */
export interface IncludeScopeOptions {
	/** the permission set's NSID, such as `app.bsky.authFullApp`. */
	nsid: string;
	/** the service the set's `inheritAud` rpc permissions are for, as `did:…#service_id`. */
	aud?: string | undefined;
}

/** options for `scope.rpc`. */
export interface RpcScopeOptions {
	/** method NSIDs, or `['*']` for every method (not together with `aud: '*'`). */
	lxm: readonly string[];
	/** the service, as `did:…#service_id`, or `*` for any service. */
	aud: string;
}

/** options for `scope.repo`. */
export interface RepoScopeOptions {
	/** collection NSIDs, or `['*']` for every collection. */
	collection: readonly string[];
	/** the allowed actions; default all three. */
	action?: readonly RepoAction[] | undefined;
}

/** options for `scope.blob`. */
export interface BlobScopeOptions {
	/** MIME types or patterns: `image/png`, `image/*`, or the match-all pattern; the case is kept, and matched exactly by the PDS. */
	accept: readonly string[];
}

/** options for `scope.account`. */
export interface AccountScopeOptions {
	/** the account attribute. */
	attr: AccountAttribute;
	/** `read` (the default) or `manage`, which includes read. */
	action?: AccountAction | undefined;
}

/** options for `scope.identity`. */
export interface IdentityScopeOptions {
	/** `handle`, or `*` for full control of the DID document and handle. */
	attr: IdentityAttribute;
}

/** the scope builders; each returns a canonical scope token. */
export interface ScopeBuilders {
	/** a permission set reference: `include:app.bsky.authFullApp?aud=did:web:api.bsky.app%23bsky_appview`. */
	include(options: IncludeScopeOptions): string;
	/** calls to remote services: `rpc:com.atproto.moderation.createReport?aud=*`. */
	rpc(options: RpcScopeOptions): string;
	/** record writes: `repo:app.bsky.feed.post?action=create`. */
	repo(options: RepoScopeOptions): string;
	/** blob uploads: `blob?accept=image/*&accept=video/*`. */
	blob(options: BlobScopeOptions): string;
	/** account attributes: `account:email?action=manage`. */
	account(options: AccountScopeOptions): string;
	/** identity control: `identity:handle`. */
	identity(options: IdentityScopeOptions): string;
	/** the `atproto` scope every request needs. */
	readonly atproto: 'atproto';
	/** the transitional scopes, which grant broad access and are due to be removed. */
	readonly transition: {
		/** like an app password: repo writes, blobs and rpc (but chat). */
		readonly generic: 'transition:generic';
		/** chat.bsky rpc. */
		readonly chatBsky: 'transition:chat.bsky';
		/** reading the account email. */
		readonly email: 'transition:email';
	};
}

/** the builder for one resource: throws its TypeError for a problem, else writes the token. */
const builder =
	(resource: ScopePermission['resource']) =>
	(options: unknown): string => {
		if (typeof options !== 'object' || options === null) {
			throw new TypeError(`scope.${resource}: options must be an object, got ${show(options)}`);
		}
		const permission = canonicalPermission(options as ScopePermission, resource);
		if (permission instanceof Problem) {
			throw new TypeError(`scope.${resource}: ${permission.message}`);
		}
		return writePermission(permission);
	};

/**
 * builders for atproto OAuth scope tokens. each returns the canonical string (what the reference
 * implementation formats for the same permission) and throws a TypeError naming the field and value
 * when the input is not a valid permission, or has a field the builder does not take.
 * @see https://atproto.com/specs/permission
 */
export const scope: ScopeBuilders = Object.freeze({
	include: builder('include'),
	rpc: builder('rpc'),
	repo: builder('repo'),
	blob: builder('blob'),
	account: builder('account'),
	identity: builder('identity'),
	atproto: 'atproto',
	transition: Object.freeze({
		generic: 'transition:generic',
		chatBsky: 'transition:chat.bsky',
		email: 'transition:email',
	}),
});
