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
import { parseScopeSyntax, type ScopeSyntax } from './scope-syntax.ts';

const ATPROTO: AtprotoPermission = Object.freeze({ resource: 'atproto' });

// the static scopes, by their exact token
const STATIC = new Map<string, AtprotoPermission | TransitionPermission>([
	['atproto', ATPROTO],
	...TRANSITION_NAMES.map(
		(name) => [`transition:${name}`, Object.freeze({ resource: 'transition', name } as const)] as const,
	),
]);

/** how one kind of permission is read from a token, checked and canonicalized, and written. */
interface Codec {
	/** the fields `check` reads: any other is refused, so a misspelt one is not silently left out. */
	readonly fields: readonly string[];
	/** the permission a parsed token holds, or undefined when it is not a valid one. */
	read(syntax: ScopeSyntax): ScopePermission | undefined;
	/** the canonical permission for these values (read as properties), or what is wrong with them. */
	check(values: Record<string, unknown>): ScopePermission | Problem;
	/** the canonical token of a canonical permission. */
	write(permission: never): string;
}

// one entry per resource; a Map, so a token's resource (`constructor`, `__proto__`) is only a key
const CODECS = new Map<string, Codec>([
	[
		'repo',
		{
			fields: ['collection', 'action'],
			read: readRepoPermission,
			check: (o) => toRepoPermission(o.collection, o.action),
			write: writeRepoPermission,
		},
	],
	[
		'rpc',
		{
			fields: ['lxm', 'aud'],
			read: readRpcPermission,
			check: (o) => toRpcPermission(o.lxm, o.aud),
			write: writeRpcPermission,
		},
	],
	[
		'blob',
		{
			fields: ['accept'],
			read: readBlobPermission,
			check: (o) => toBlobPermission(o.accept),
			write: writeBlobPermission,
		},
	],
	[
		'account',
		{
			fields: ['attr', 'action'],
			read: readAccountPermission,
			check: (o) => toAccountPermission(o.attr, o.action),
			write: writeAccountPermission,
		},
	],
	[
		'identity',
		{
			fields: ['attr'],
			read: readIdentityPermission,
			check: (o) => toIdentityPermission(o.attr),
			write: writeIdentityPermission,
		},
	],
	[
		'include',
		{
			fields: ['nsid', 'aud'],
			read: readIncludePermission,
			check: (o) => toIncludePermission(o.nsid, o.aud),
			write: writeIncludePermission,
		},
	],
	// the static scopes are read by their exact token (STATIC), never from parsed syntax
	['atproto', { fields: [], read: () => undefined, check: () => ATPROTO, write: () => 'atproto' }],
	[
		'transition',
		{
			fields: ['name'],
			read: () => undefined,
			check: (o) => {
				const name = checkOneOf('name', o.name, TRANSITION_NAMES);
				return name instanceof Problem ? name : STATIC.get(`transition:${name}`)!;
			},
			write: (permission: TransitionPermission) => `transition:${permission.name}`,
		},
	],
]);

/** reads one scope token, or undefined when it is not a permission we know. */
export const readPermission = (token: string): ScopePermission | undefined => {
	const fixed = STATIC.get(token);
	if (fixed !== undefined) {
		return fixed;
	}
	const syntax = parseScopeSyntax(token);
	return syntax === undefined ? undefined : CODECS.get(syntax.resource)?.read(syntax);
};

/**
 * checks a permission object and returns its canonical form, or what is wrong with it. with
 * `resource` given, `permission` holds the values for a permission of that resource (a builder's
 * options): a `resource` field may be there only when it names the same one (a parsed permission
 * given back to its builder).
 */
export const canonicalPermission = (
	permission: ScopePermission,
	resource?: string,
): ScopePermission | Problem => {
	if (typeof permission !== 'object' || permission === null) {
		return new Problem(`permission must be an object, got ${show(permission)}`);
	}
	const values = permission as unknown as Record<string, unknown>;
	const own = resource === undefined;
	const codec = CODECS.get((own ? values.resource : resource) as string);
	if (codec === undefined) {
		return new Problem(`resource ${show(values.resource)} is not known`);
	}
	// an unknown field is most likely a misspelt optional one (`actions` for `action`); ignoring it
	// would leave out a restriction and grant more than was meant (all repo actions, say)
	const fields = own || values.resource === resource ? ['resource', ...codec.fields] : codec.fields;
	for (const key of Object.keys(values)) {
		if (!fields.includes(key)) {
			return new Problem(`unknown field ${show(key)} (expected ${fields.join(', ') || 'none'})`);
		}
	}
	return codec.check(values);
};

/** writes a canonical permission as its canonical scope token. */
export const writePermission = (permission: ScopePermission): string => {
	return CODECS.get(permission.resource)!.write(permission as never);
};
