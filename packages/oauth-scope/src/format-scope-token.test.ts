import { describe, expect, it } from 'vitest';

import { formatScopeToken } from './format-scope-token.ts';
import { parseScopeToken } from './parse-scope-token.ts';
import type { ScopePermission } from './permission.ts';
import { referenceFields, referenceNormalize } from './test-utils/reference.ts';

describe('formatScopeToken', () => {
	it('writes canonical tokens for hand-made permissions', () => {
		const cases: [ScopePermission, string][] = [
			[
				{ resource: 'repo', collection: ['b.example.foo', 'a.example.foo'], action: ['delete'] },
				'repo?collection=a.example.foo&collection=b.example.foo&action=delete',
			],
			[
				{ resource: 'repo', collection: ['a.example.foo'], action: ['update', 'create', 'delete'] },
				'repo:a.example.foo',
			],
			[
				{ resource: 'rpc', lxm: ['*'], aud: 'did:web:api.bsky.app#bsky_appview' },
				'rpc:*?aud=did:web:api.bsky.app%23bsky_appview',
			],
			[
				{ resource: 'blob', accept: ['text/html', 'image/png', 'image/*'] },
				'blob?accept=image/*&accept=text/html',
			],
			[{ resource: 'account', attr: 'email', action: 'read' }, 'account:email'],
			[{ resource: 'identity', attr: 'handle' }, 'identity:handle'],
			[{ resource: 'include', nsid: 'app.bsky.authFullApp' }, 'include:app.bsky.authFullApp'],
			[{ resource: 'atproto' }, 'atproto'],
			[{ resource: 'transition', name: 'chat.bsky' }, 'transition:chat.bsky'],
		];
		for (const [permission, expected] of cases) {
			expect(formatScopeToken(permission)).toBe(expected);
			expect(referenceNormalize(expected)).toEqual({ valid: true, canonical: expected });
		}
	});

	it('fills in the account action when a JavaScript caller leaves it out', () => {
		expect(formatScopeToken({ resource: 'account', attr: 'repo' } as never)).toBe('account:repo');
	});

	it('undoes parseScopeToken for canonical tokens', () => {
		for (const token of [
			'repo:app.bsky.feed.post?action=create',
			'rpc?lxm=app.bsky.actor.getProfile&lxm=app.bsky.feed.getFeed&aud=*',
			'blob:image/*',
			'blob:Image/*',
			'blob?accept=IMAGE/PNG&accept=image/*',
			'account:repo?action=manage',
			'identity:*',
			'include:app.bsky.authFullApp?aud=did:web:api.bsky.app%23bsky_appview',
		]) {
			expect(formatScopeToken(parseScopeToken(token)!)).toBe(token);
		}
	});

	it('keeps the case of blob types as written (deliberately unlike the reference), as the PDS matches them', () => {
		const permission: ScopePermission = { resource: 'blob', accept: ['text/html', 'IMAGE/PNG', 'image/*'] };
		expect(formatScopeToken(permission)).toBe('blob?accept=IMAGE/PNG&accept=image/*&accept=text/html');
		// a type that a same-case wildcard covers is still dropped
		expect(formatScopeToken({ resource: 'blob', accept: ['Image/png', 'Image/*'] })).toBe('blob:Image/*');
		// the reference matches its parsed pattern as written, but formats it lower-cased
		expect(referenceFields('blob:Image/*')).toEqual({ resource: 'blob', accept: ['Image/*'] });
		expect(referenceNormalize('blob:Image/*')).toEqual({ valid: true, canonical: 'blob:image/*' });
	});

	it('escapes characters form encoding escapes in query values, as the reference does', () => {
		const token = formatScopeToken({
			resource: 'rpc',
			lxm: ['a.example.foo'],
			aud: "did:web:api.bsky.app#a!b~c(d)e'f&g=h",
		});
		expect(token).toBe('rpc:a.example.foo?aud=did:web:api.bsky.app%23a%21b%7Ec%28d%29e%27f%26g%3Dh');
		expect(referenceNormalize(token)).toEqual({ valid: true, canonical: token });
	});

	it('keeps a + in a query value as %2B (deliberately unlike the reference), since a bare + reads back as a space', () => {
		const permission: ScopePermission = { resource: 'blob', accept: ['image/png', 'image/svg+xml'] };
		const token = formatScopeToken(permission);
		expect(token).toBe('blob?accept=image/png&accept=image/svg%2Bxml');
		expect(parseScopeToken(token)).toEqual(permission);
		expect(referenceFields(token)).toEqual(permission);

		// the reference writes a bare +, which neither implementation reads back
		const theirs = 'blob?accept=image/png&accept=image/svg+xml';
		expect(referenceNormalize(token)).toEqual({ valid: true, canonical: theirs });
		expect(referenceNormalize(theirs)).toEqual({ valid: false, threw: false });
		expect(parseScopeToken(theirs)).toBeUndefined();

		// in the positional part a + is safe and stays bare, as in the reference
		expect(formatScopeToken({ resource: 'blob', accept: ['image/svg+xml'] })).toBe('blob:image/svg+xml');
	});

	it('throws a TypeError naming the field of an invalid permission', () => {
		const cases: [unknown, string][] = [
			[
				{ resource: 'repo', collection: [], action: ['create'] },
				'formatScopeToken: collection must not be empty',
			],
			[{ resource: 'repo', collection: ['com.example.*'] }, 'formatScopeToken: collection "com.example.*"'],
			[{ resource: 'rpc', lxm: ['*'], aud: '*' }, 'formatScopeToken: lxm "*" together with aud "*"'],
			[{ resource: 'rpc', lxm: ['a.example.foo'] }, 'formatScopeToken: aud undefined'],
			[{ resource: 'blob', accept: ['image'] }, 'formatScopeToken: accept "image"'],
			[{ resource: 'include', nsid: 'app.bsky.authFullApp', aud: '*' }, 'formatScopeToken: aud "*"'],
			[
				{ resource: 'transition', name: 'chat' },
				'formatScopeToken: name "chat" is not one of "generic", "chat.bsky", "email"',
			],
			[{ resource: 'service' }, 'formatScopeToken: resource "service" is not known'],
			[
				{ resource: 'repo', collection: ['a.example.foo'], actions: ['create'] },
				'formatScopeToken: unknown field "actions" (expected resource, collection, action)',
			],
			[{ resource: 'atproto', name: 'x' }, 'formatScopeToken: unknown field "name" (expected resource)'],
			[null, 'formatScopeToken: permission must be an object, got null'],
		];
		for (const [permission, message] of cases) {
			expect(() => formatScopeToken(permission as ScopePermission)).toThrow(TypeError);
			expect(() => formatScopeToken(permission as ScopePermission)).toThrow(message);
		}
	});
});
