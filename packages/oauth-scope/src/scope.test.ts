import { describe, expect, it } from 'vitest';

import { parseScopeToken } from './parse-scope-token.ts';
import { scope } from './scope.ts';
import { referenceFields, referenceNormalize } from './test-utils/reference.ts';

const APPVIEW = 'did:web:api.bsky.app#bsky_appview';
const CHAT = 'did:web:api.bsky.chat#bsky_chat';
const LABELER = 'did:plc:ar7c4by46qjdydhdevvrndac#atproto_labeler';

/** builder calls and the exact strings they return. */
const CASES: readonly [name: string, build: () => string, expected: string][] = [
	// the documented client metadata example
	[
		'include with aud (seed)',
		() => scope.include({ nsid: 'app.bsky.authFullApp', aud: APPVIEW }),
		'include:app.bsky.authFullApp?aud=did:web:api.bsky.app%23bsky_appview',
	],
	[
		'include of the chat set (seed)',
		() => scope.include({ nsid: 'chat.bsky.authFullChatClient', aud: CHAT }),
		'include:chat.bsky.authFullChatClient?aud=did:web:api.bsky.chat%23bsky_chat',
	],
	[
		'rpc to any service (seed)',
		() => scope.rpc({ lxm: ['com.atproto.moderation.createReport'], aud: '*' }),
		'rpc:com.atproto.moderation.createReport?aud=*',
	],
	[
		'blob with two patterns (seed)',
		() => scope.blob({ accept: ['image/*', 'video/*'] }),
		'blob?accept=image/*&accept=video/*',
	],
	[
		'account email manage (seed)',
		() => scope.account({ attr: 'email', action: 'manage' }),
		'account:email?action=manage',
	],
	['identity handle (seed)', () => scope.identity({ attr: 'handle' }), 'identity:handle'],
	// include
	[
		'include without aud',
		() => scope.include({ nsid: 'app.bsky.authFullApp' }),
		'include:app.bsky.authFullApp',
	],
	[
		'include with aud undefined',
		() => scope.include({ nsid: 'app.bsky.authFullApp', aud: undefined }),
		'include:app.bsky.authFullApp',
	],
	[
		'include with a did:plc aud',
		() => scope.include({ nsid: 'tools.ozone.authFull', aud: LABELER }),
		'include:tools.ozone.authFull?aud=did:plc:ar7c4by46qjdydhdevvrndac%23atproto_labeler',
	],
	// rpc
	[
		'rpc with one method and a service',
		() => scope.rpc({ lxm: ['app.bsky.feed.getFeed'], aud: APPVIEW }),
		'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23bsky_appview',
	],
	[
		'rpc with methods unsorted and repeated',
		() =>
			scope.rpc({
				lxm: ['app.bsky.feed.getFeed', 'app.bsky.actor.getProfile', 'app.bsky.feed.getFeed'],
				aud: APPVIEW,
			}),
		'rpc?lxm=app.bsky.actor.getProfile&lxm=app.bsky.feed.getFeed&aud=did:web:api.bsky.app%23bsky_appview',
	],
	[
		'rpc with every method of one service',
		() => scope.rpc({ lxm: ['*'], aud: CHAT }),
		'rpc:*?aud=did:web:api.bsky.chat%23bsky_chat',
	],
	[
		'rpc with a wildcard among methods',
		() => scope.rpc({ lxm: ['app.bsky.feed.getFeed', '*'], aud: APPVIEW }),
		'rpc:*?aud=did:web:api.bsky.app%23bsky_appview',
	],
	[
		'rpc with two methods to any service',
		() =>
			scope.rpc({ lxm: ['com.atproto.moderation.createReport', 'app.bsky.feed.getFeedSkeleton'], aud: '*' }),
		'rpc?lxm=app.bsky.feed.getFeedSkeleton&lxm=com.atproto.moderation.createReport&aud=*',
	],
	// repo
	[
		'repo with one collection',
		() => scope.repo({ collection: ['app.bsky.feed.post'] }),
		'repo:app.bsky.feed.post',
	],
	[
		'repo with one action',
		() => scope.repo({ collection: ['app.bsky.feed.post'], action: ['create'] }),
		'repo:app.bsky.feed.post?action=create',
	],
	[
		'repo with every action, which is the default',
		() => scope.repo({ collection: ['app.bsky.feed.post'], action: ['delete', 'create', 'update'] }),
		'repo:app.bsky.feed.post',
	],
	[
		'repo with actions out of order and repeated',
		() => scope.repo({ collection: ['app.bsky.feed.post'], action: ['delete', 'update', 'delete'] }),
		'repo:app.bsky.feed.post?action=update&action=delete',
	],
	[
		'repo with collections unsorted',
		() => scope.repo({ collection: ['app.bsky.feed.post', 'app.bsky.feed.like'], action: ['create'] }),
		'repo?collection=app.bsky.feed.like&collection=app.bsky.feed.post&action=create',
	],
	[
		'repo with a repeated collection',
		() => scope.repo({ collection: ['app.bsky.feed.post', 'app.bsky.feed.post'] }),
		'repo:app.bsky.feed.post',
	],
	['repo with every collection', () => scope.repo({ collection: ['*'] }), 'repo:*'],
	[
		'repo with a wildcard among collections',
		() => scope.repo({ collection: ['app.bsky.feed.post', '*'], action: ['delete'] }),
		'repo:*?action=delete',
	],
	// blob
	['blob with one pattern', () => scope.blob({ accept: ['image/*'] }), 'blob:image/*'],
	['blob with every type', () => scope.blob({ accept: ['*/*'] }), 'blob:*/*'],
	[
		'blob where the match-all absorbs the rest',
		() => scope.blob({ accept: ['image/png', '*/*'] }),
		'blob:*/*',
	],
	[
		'blob where a type wildcard absorbs a type',
		() => scope.blob({ accept: ['image/png', 'image/*'] }),
		'blob:image/*',
	],
	['blob keeps a plus sign', () => scope.blob({ accept: ['image/svg+xml'] }), 'blob:image/svg+xml'],
	[
		'blob with concrete types, sorted',
		() => scope.blob({ accept: ['video/mp4', 'image/png', 'image/jpeg'] }),
		'blob?accept=image/jpeg&accept=image/png&accept=video/mp4',
	],
	// account
	['account email, read by default', () => scope.account({ attr: 'email' }), 'account:email'],
	[
		'account email read, the default',
		() => scope.account({ attr: 'email', action: 'read' }),
		'account:email',
	],
	[
		'account repo manage',
		() => scope.account({ attr: 'repo', action: 'manage' }),
		'account:repo?action=manage',
	],
	['account status', () => scope.account({ attr: 'status' }), 'account:status'],
	// identity
	['identity wildcard', () => scope.identity({ attr: '*' }), 'identity:*'],
];

describe('scope', () => {
	for (const [name, build, expected] of CASES) {
		it(`builds ${name} as ${expected}, which the reference reads and writes back unchanged`, () => {
			const token = build();
			expect(token).toBe(expected);

			// the reference parses our string and formats it back byte for byte
			expect(referenceNormalize(token)).toEqual({ valid: true, canonical: token });
			// to the same permission we parse it to
			expect(referenceFields(token)).toEqual(parseScopeToken(token));
		});
	}

	it('keeps a literal % escaped (deliberately unlike the reference), so the aud reads back the same', () => {
		const token = scope.rpc({ lxm: ['app.bsky.feed.getFeed'], aud: 'did:web:localhost%3A2584#bsky_appview' });
		expect(token).toBe('rpc:app.bsky.feed.getFeed?aud=did:web:localhost%253A2584%23bsky_appview');

		// the reference reads our string to the same permission
		expect(referenceFields(token)).toEqual(parseScopeToken(token));
		expect(parseScopeToken(token)).toMatchObject({ aud: 'did:web:localhost%3A2584#bsky_appview' });

		// its own canonical form un-escapes the %, which then reads back as a did:web path: invalid
		const theirs = 'rpc:app.bsky.feed.getFeed?aud=did:web:localhost%3A2584%23bsky_appview';
		expect(referenceNormalize(token)).toEqual({ valid: true, canonical: theirs });
		expect(referenceNormalize(theirs)).toEqual({ valid: false, threw: false });
		expect(parseScopeToken(theirs)).toBeUndefined();
	});

	it('keeps the case of blob types (deliberately unlike the reference), so the token grants what it says', () => {
		const token = scope.blob({ accept: ['IMAGE/PNG', 'image/*', 'Image/png'] });
		// `IMAGE/PNG` and `Image/png` are not covered by `image/*`: the PDS compares case and all
		expect(token).toBe('blob?accept=IMAGE/PNG&accept=Image/png&accept=image/*');
		expect(scope.blob({ accept: ['Image/png', 'Image/*'] })).toBe('blob:Image/*');

		// the reference reads our string to the same permission, and matches it as written
		expect(referenceFields(token)).toEqual(parseScopeToken(token));
		// but its own canonical form lower-cases, which grants other uploads than the token it read
		expect(referenceNormalize(token)).toEqual({ valid: true, canonical: 'blob:image/*' });
	});

	it('has the atproto and transitional constants', () => {
		expect(scope.atproto).toBe('atproto');
		expect(scope.transition.generic).toBe('transition:generic');
		expect(scope.transition.chatBsky).toBe('transition:chat.bsky');
		expect(scope.transition.email).toBe('transition:email');
		for (const token of [scope.atproto, ...Object.values(scope.transition)]) {
			expect(referenceNormalize(token)).toEqual({ valid: true, canonical: token });
		}
	});

	it('is frozen', () => {
		expect(Object.isFrozen(scope)).toBe(true);
		expect(Object.isFrozen(scope.transition)).toBe(true);
	});

	const call = (build: () => unknown): unknown => {
		try {
			build();
		} catch (error) {
			return error;
		}
		throw new Error('expected the builder to throw');
	};

	/** invalid builder calls and the message each TypeError carries. */
	const ERRORS: readonly [name: string, build: () => unknown, message: string][] = [
		[
			'lxm * with aud *',
			() => scope.rpc({ lxm: ['*'], aud: '*' }),
			'scope.rpc: lxm "*" together with aud "*" is not allowed: name the methods or the service',
		],
		[
			'a wildcard among methods with aud *',
			() => scope.rpc({ lxm: ['app.bsky.feed.getFeed', '*'], aud: '*' }),
			'scope.rpc: lxm "*" together with aud "*"',
		],
		[
			'an invalid include NSID',
			() => scope.include({ nsid: 'not-an-nsid' }),
			'scope.include: nsid "not-an-nsid"',
		],
		['a two-part NSID', () => scope.include({ nsid: 'com.example' }), 'scope.include: nsid "com.example"'],
		[
			'an include aud without a fragment',
			() => scope.include({ nsid: 'app.bsky.authFullApp', aud: 'did:web:api.bsky.app' }),
			'scope.include: aud "did:web:api.bsky.app" is not a service reference',
		],
		[
			'an include aud of *',
			() => scope.include({ nsid: 'app.bsky.authFullApp', aud: '*' }),
			'scope.include: aud "*" is not a service reference',
		],
		[
			'an rpc aud without a fragment',
			() => scope.rpc({ lxm: ['app.bsky.feed.getFeed'], aud: 'did:web:api.bsky.app' }),
			'scope.rpc: aud "did:web:api.bsky.app" is not "*" or a service reference',
		],
		[
			'an rpc aud with an empty fragment',
			() => scope.rpc({ lxm: ['app.bsky.feed.getFeed'], aud: 'did:web:api.bsky.app#' }),
			'scope.rpc: aud "did:web:api.bsky.app#"',
		],
		[
			'an rpc aud with a did:web path',
			() => scope.rpc({ lxm: ['app.bsky.feed.getFeed'], aud: 'did:web:example.com:user#svc' }),
			'scope.rpc: aud "did:web:example.com:user#svc"',
		],
		[
			'an rpc aud with a port on a public host',
			() => scope.rpc({ lxm: ['app.bsky.feed.getFeed'], aud: 'did:web:example.com%3A8080#svc' }),
			'scope.rpc: aud "did:web:example.com%3A8080#svc"',
		],
		[
			'an rpc aud with a DID method atproto does not use',
			() =>
				scope.rpc({
					lxm: ['app.bsky.feed.getFeed'],
					aud: 'did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF#x',
				}),
			'scope.rpc: aud "did:key:',
		],
		['an empty lxm list', () => scope.rpc({ lxm: [], aud: APPVIEW }), 'scope.rpc: lxm must not be empty'],
		[
			'an empty collection list',
			() => scope.repo({ collection: [] }),
			'scope.repo: collection must not be empty',
		],
		['an empty accept list', () => scope.blob({ accept: [] }), 'scope.blob: accept must not be empty'],
		[
			'an empty action list',
			() => scope.repo({ collection: ['app.bsky.feed.post'], action: [] }),
			'scope.repo: action must not be empty',
		],
		[
			'a partial collection wildcard',
			() => scope.repo({ collection: ['com.example.*'] }),
			'scope.repo: collection "com.example.*" is not an NSID or "*"',
		],
		[
			'a partial method wildcard',
			() => scope.rpc({ lxm: ['app.bsky.*'], aud: APPVIEW }),
			'scope.rpc: lxm "app.bsky.*" is not an NSID or "*"',
		],
		[
			'an unknown account attribute',
			() => scope.account({ attr: 'phone' as never }),
			'scope.account: attr "phone" is not one of "email", "repo", "status"',
		],
		[
			'an unknown account action',
			() => scope.account({ attr: 'email', action: 'delete' as never }),
			'scope.account: action "delete" is not one of "read", "manage"',
		],
		[
			'an unknown repo action',
			() => scope.repo({ collection: ['app.bsky.feed.post'], action: ['read' as never] }),
			'scope.repo: action "read" is not one of "create", "update", "delete"',
		],
		[
			'an unknown identity attribute',
			() => scope.identity({ attr: 'did' as never }),
			'scope.identity: attr "did" is not one of "handle", "*"',
		],
		[
			'a MIME type without a subtype',
			() => scope.blob({ accept: ['image'] }),
			'scope.blob: accept "image" is not a MIME type',
		],
		[
			'a MIME type with an empty subtype',
			() => scope.blob({ accept: ['image/'] }),
			'scope.blob: accept "image/"',
		],
		['a wildcard type with a subtype', () => scope.blob({ accept: ['*/png'] }), 'scope.blob: accept "*/png"'],
		[
			'a partial subtype wildcard',
			() => scope.blob({ accept: ['image/p*'] }),
			'scope.blob: accept "image/p*"',
		],
		[
			'a MIME type with a space',
			() => scope.blob({ accept: ['image/png; q=1'] }),
			'scope.blob: accept "image/png; q=1"',
		],
		['a MIME type with two slashes', () => scope.blob({ accept: ['a/b/c'] }), 'scope.blob: accept "a/b/c"'],
		// the lexicon spec supports `type/*` and `*/*` only: no partial globs
		['a wildcard type before /*', () => scope.blob({ accept: ['**/*'] }), 'scope.blob: accept "**/*"'],
		[
			'a partial type wildcard',
			() => scope.blob({ accept: ['ima*ge/*'] }),
			'scope.blob: accept "ima*ge/*" is not a MIME type',
		],
		['a partial subtype glob', () => scope.blob({ accept: ['text/ht*'] }), 'scope.blob: accept "text/ht*"'],
		['a lone wildcard', () => scope.blob({ accept: ['*'] }), 'scope.blob: accept "*"'],
		[
			'a non-ASCII MIME type',
			() => scope.blob({ accept: ['image/pngé'] }),
			'scope.blob: accept "image/pngé"',
		],
		[
			'missing options',
			() => scope.repo(undefined as never),
			'scope.repo: options must be an object, got undefined',
		],
		[
			'a collection that is not an array',
			() => scope.repo({ collection: 'app.bsky.feed.post' as never }),
			'scope.repo: collection must be an array, got "app.bsky.feed.post"',
		],
		// a misspelt field must not be dropped: repo:app.bsky.feed.post would grant every action
		[
			'a misspelt repo action field',
			() => scope.repo({ collection: ['app.bsky.feed.post'], actions: ['create'] } as never),
			'scope.repo: unknown field "actions" (expected collection, action)',
		],
		[
			'a misspelt account action field',
			() => scope.account({ attr: 'email', actions: 'read' } as never),
			'scope.account: unknown field "actions" (expected attr, action)',
		],
		[
			'a misspelt include aud field, even when undefined',
			() => scope.include({ nsid: 'app.bsky.authFullApp', audience: undefined } as never),
			'scope.include: unknown field "audience" (expected nsid, aud)',
		],
		[
			'a misspelt rpc field',
			() => scope.rpc({ lxms: ['app.bsky.feed.getFeed'], aud: '*' } as never),
			'scope.rpc: unknown field "lxms" (expected lxm, aud)',
		],
		[
			'a misspelt blob field',
			() => scope.blob({ accept: ['image/*'], maxSize: 1000 } as never),
			'scope.blob: unknown field "maxSize" (expected accept)',
		],
		[
			'a resource field in builder options that names another resource',
			() => scope.identity({ resource: 'repo', attr: 'handle' } as never),
			'scope.identity: unknown field "resource" (expected attr)',
		],
		[
			'a method that is not a string',
			() => scope.rpc({ lxm: [42 as never], aud: APPVIEW }),
			'scope.rpc: lxm number is not an NSID',
		],
	];

	it('takes back the permissions its parser makes, resource field and all', () => {
		expect(scope.repo(parseScopeToken('repo:app.bsky.feed.post?action=create') as never)).toBe(
			'repo:app.bsky.feed.post?action=create',
		);
		expect(scope.identity(parseScopeToken('identity:handle') as never)).toBe('identity:handle');
		expect(scope.account(parseScopeToken('account:email') as never)).toBe('account:email');
	});

	for (const [name, build, message] of ERRORS) {
		it(`throws a TypeError for ${name}`, () => {
			const error = call(build);
			expect(error).toBeInstanceOf(TypeError);
			expect((error as TypeError).message).toContain(message);
		});
	}
});
