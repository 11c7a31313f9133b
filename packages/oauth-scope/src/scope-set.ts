import { Problem, show } from './internal/check.ts';
import { canonicalPermission, readPermission, writePermission } from './internal/codec.ts';
import { ANY_MEDIA_TYPE, isMediaType } from './internal/mime.ts';
import { checkRequest } from './internal/request.ts';
import { type ParsedScope, parseScope } from './parse-scope.ts';
import type { AccountAction, AccountAttribute, ScopePermission } from './permission.ts';
import type { PermissionRequest } from './permission-request.ts';

/** the names one kind of grant covers: all of them, or some. */
interface Names {
	any: boolean;
	readonly names: Set<string>;
}

const grant = (map: Map<string, Names>, key: string, names: readonly string[]): void => {
	let entry = map.get(key);
	if (entry === undefined) {
		entry = { any: false, names: new Set() };
		map.set(key, entry);
	}
	for (const name of names) {
		if (name === '*') entry.any = true;
		else entry.names.add(name);
	}
};

const covers = (entry: Names | undefined, name: string): boolean => {
	return entry !== undefined && (entry.any || entry.names.has(name));
};

const CHAT_BSKY_PREFIX = 'chat.bsky.';

/**
 * a granted scope, parsed once, that answers permission checks quickly: lookups in maps and sets
 * built up front. the rules are the reference implementation's (`ScopePermissionsTransition`),
 * transitional scopes included. `include:` tokens grant nothing here: the authorization server
 * expands them, and a token's granted scope lists the permissions they stand for.
 * @see https://atproto.com/specs/permission
 */
export class ScopeSet {
	/** the permissions, once each, ordered by canonical token. */
	readonly permissions: readonly ScopePermission[];
	/** the tokens of the scope that were not valid permissions, once each. */
	readonly unknown: readonly string[];

	readonly #tokens: readonly string[];
	readonly #tokenSet: ReadonlySet<string>;
	#generic = false;
	#chatBsky = false;
	#email = false;
	readonly #repo = new Map<string, Names>();
	readonly #rpc = new Map<string, Names>();
	#anyBlob = false;
	readonly #blobTypes = new Set<string>();
	readonly #blobWildcards = new Set<string>();
	readonly #account = new Map<string, AccountAction>();
	readonly #identity = new Set<string>();

	/**
	 * @param scope a space-separated scope string (unparsable tokens are skipped and listed in
	 * `unknown`), or the result of `parseScope`
	 * @throws {TypeError} when a permission in a `ParsedScope` is not valid, or its `unknown` is not
	 * an array of strings
	 */
	constructor(scope: string | ParsedScope) {
		const parsed = typeof scope === 'string' ? parseScope(scope) : checkParsed(scope);
		const byToken = new Map<string, ScopePermission>();
		for (const permission of parsed.permissions) {
			byToken.set(writePermission(permission), permission);
		}
		this.#tokens = [...byToken.keys()].sort();
		this.#tokenSet = new Set(this.#tokens);
		this.permissions = Object.freeze(this.#tokens.map((token) => byToken.get(token)!));
		this.unknown = parsed.unknown;
		for (const permission of this.permissions) {
			this.#add(permission);
		}
	}

	/** a scope set as is, or a new one from a scope string or a parsed scope. */
	static from(scope: string | ParsedScope | ScopeSet): ScopeSet {
		return scope instanceof ScopeSet ? scope : new ScopeSet(scope);
	}

	#add(permission: ScopePermission): void {
		switch (permission.resource) {
			case 'repo':
				for (const action of permission.action) grant(this.#repo, action, permission.collection);
				break;
			case 'rpc':
				grant(this.#rpc, permission.aud, permission.lxm);
				break;
			case 'blob':
				for (const pattern of permission.accept) {
					if (pattern === ANY_MEDIA_TYPE) this.#anyBlob = true;
					else if (pattern.endsWith('/*')) this.#blobWildcards.add(pattern.slice(0, -2));
					else this.#blobTypes.add(pattern);
				}
				break;
			case 'account':
				if (this.#account.get(permission.attr) !== 'manage') {
					this.#account.set(permission.attr, permission.action);
				}
				break;
			case 'identity':
				this.#identity.add(permission.attr);
				break;
			case 'transition':
				if (permission.name === 'generic') this.#generic = true;
				else if (permission.name === 'chat.bsky') this.#chatBsky = true;
				else this.#email = true;
				break;
			// atproto grants nothing by itself; include is expanded by the server
		}
	}

	/** whether the scope holds this token or permission (compared in canonical form). */
	has(token: string | ScopePermission): boolean {
		const permission = typeof token === 'string' ? readPermission(token) : token;
		if (permission === undefined) {
			return false;
		}
		const canonical = canonicalPermission(permission);
		return !(canonical instanceof Problem) && this.#tokenSet.has(writePermission(canonical));
	}

	/**
	 * whether the scope allows the request.
	 * @throws {TypeError} when `request` is not an object, its `type` is not a known resource, or a
	 * field its type needs is missing or not one of the allowed values (`action: 'destroy'`)
	 */
	allows(request: PermissionRequest): boolean {
		// a missing field must not be answered: transition:generic would allow `{ type: 'repo' }`
		checkRequest(request);
		switch (request.type) {
			case 'repo':
				return this.#generic || covers(this.#repo.get(request.action), request.collection);
			case 'rpc':
				return this.#allowsRpc(request.lxm, request.aud);
			case 'blob':
				return this.#generic || this.#allowsBlob(request.mime);
			case 'account':
				return this.#allowsAccount(request.attr, request.action);
			case 'identity':
				return this.#identity.has('*') || this.#identity.has(request.attr);
		}
	}

	#allowsRpc(lxm: string, aud: string): boolean {
		const chat = lxm.startsWith(CHAT_BSKY_PREFIX);
		// transition:generic covers every method but chat's, which takes transition:chat.bsky
		if (chat ? this.#chatBsky : this.#generic) {
			return true;
		}
		return covers(this.#rpc.get('*'), lxm) || covers(this.#rpc.get(aud), lxm);
	}

	#allowsBlob(mime: string): boolean {
		// compared exactly, not case-folded: the PDS checks the upload's Content-Type as sent against
		// the granted patterns as written, so `IMAGE/PNG` is not allowed by `blob:image/*` there
		if (!isMediaType(mime)) {
			return false;
		}
		return (
			this.#anyBlob || this.#blobTypes.has(mime) || this.#blobWildcards.has(mime.slice(0, mime.indexOf('/')))
		);
	}

	#allowsAccount(attr: AccountAttribute, action: AccountAction): boolean {
		if (attr === 'email' && action === 'read' && this.#email) {
			return true;
		}
		const granted = this.#account.get(attr);
		// manage includes read
		return granted === 'manage' || (granted !== undefined && granted === action);
	}

	/** the canonical scope string, as `normalizeScope` writes it. */
	toString(): string {
		return this.#tokens.join(' ');
	}
}

/** checks a parsed scope passed in by a caller, canonicalizing each permission. */
const checkParsed = (scope: ParsedScope): ParsedScope => {
	if (typeof scope !== 'object' || scope === null || !Array.isArray(scope.permissions)) {
		throw new TypeError(`scope must be a string or a parsed scope, got ${show(scope)}`);
	}
	const permissions = scope.permissions.map((permission, index) => {
		const canonical = canonicalPermission(permission);
		if (canonical instanceof Problem) {
			throw new TypeError(`scope permissions[${index}]: ${canonical.message}`);
		}
		return canonical;
	});
	// a missing `unknown` is taken as none; anything else must be a list of strings
	const unknown = scope.unknown ?? [];
	if (!Array.isArray(unknown)) {
		throw new TypeError(`scope unknown must be an array, got ${show(unknown)}`);
	}
	for (let index = 0; index < unknown.length; index++) {
		const token: unknown = unknown[index];
		if (typeof token !== 'string') {
			throw new TypeError(`scope unknown[${index}] must be a string, got ${show(token)}`);
		}
	}
	return { permissions, unknown: Object.freeze([...unknown]) };
};
