import { normalizeAtprotoOauthScope } from '@atproto/oauth-scopes';
import { describe, expect, it } from 'vitest';

import { formatScopeToken } from './format-scope-token.ts';
import { normalizeScope } from './normalize-scope.ts';
import { parseScope } from './parse-scope.ts';
import { scope } from './scope.ts';

const GRANT =
	'atproto transition:generic repo:app.bsky.feed.post?action=create rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23bsky_appview blob:image/* account:email identity:handle';

describe('parseScope', () => {
	it('splits a scope on spaces into permissions ordered by canonical token', () => {
		const parsed = parseScope(GRANT);
		expect(parsed.unknown).toEqual([]);
		expect(parsed.permissions.map(formatScopeToken)).toEqual([
			'account:email',
			'atproto',
			'blob:image/*',
			'identity:handle',
			'repo:app.bsky.feed.post?action=create',
			'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23bsky_appview',
			'transition:generic',
		]);
		expect(parsed.permissions[0]).toEqual({ resource: 'account', attr: 'email', action: 'read' });
	});

	it('skips tokens it cannot parse and lists them, once each, in the order given', () => {
		const parsed = parseScope('atproto openid repo:%E0 rpc:*?aud=* atproto openid foo:bar');
		expect(parsed.permissions).toEqual([{ resource: 'atproto' }]);
		expect(parsed.unknown).toEqual(['openid', 'repo:%E0', 'rpc:*?aud=*', 'foo:bar']);
	});

	it('keeps one of several spellings of the same permission', () => {
		const parsed = parseScope(
			'repo:app.bsky.feed.post repo?collection=app.bsky.feed.post&action=delete&action=update&action=create account:email?action=read',
		);
		expect(parsed.permissions.map(formatScopeToken)).toEqual(['account:email', 'repo:app.bsky.feed.post']);
	});

	it('ignores empty tokens from repeated, leading and trailing spaces', () => {
		expect(parseScope('  atproto   transition:email ')).toEqual({
			permissions: [{ resource: 'atproto' }, { resource: 'transition', name: 'email' }],
			unknown: [],
		});
		expect(parseScope('')).toEqual({ permissions: [], unknown: [] });
	});

	it('throws a TypeError for a scope that is not a string', () => {
		expect(() => parseScope(undefined as never)).toThrow(
			new TypeError('scope must be a string, got undefined'),
		);
	});
});

describe('normalizeScope', () => {
	it('writes canonical tokens, without repeats, sorted, and drops what it cannot parse', () => {
		expect(
			normalizeScope(
				'transition:generic  atproto repo:app.bsky.feed.post?action=create&action=update&action=delete atproto openid',
			),
		).toBe('atproto repo:app.bsky.feed.post transition:generic');
	});

	it('orders tokens as the reference does, and drops the repeats the reference keeps', () => {
		const scopes = [
			GRANT,
			[
				scope.identity({ attr: 'handle' }),
				scope.account({ attr: 'email', action: 'manage' }),
				scope.blob({ accept: ['image/*', 'video/*'] }),
				scope.rpc({ lxm: ['com.atproto.moderation.createReport'], aud: '*' }),
				scope.include({ nsid: 'chat.bsky.authFullChatClient', aud: 'did:web:api.bsky.chat#bsky_chat' }),
				scope.include({ nsid: 'app.bsky.authFullApp', aud: 'did:web:api.bsky.app#bsky_appview' }),
				scope.atproto,
			].join(' '),
			'rpc:app.bsky.feed.getFeed?aud=* rpc?lxm=app.bsky.feed.getFeed&aud=* repo:* repo:Z.example.foo repo:a.example.foo blob:*/* atproto atproto',
			'include:app.bsky.authFullApp include?nsid=app.bsky.authFullApp transition:chat.bsky transition:email',
		];
		for (const value of scopes) {
			const theirs = normalizeAtprotoOauthScope(value);
			expect(normalizeScope(value)).toBe([...new Set(theirs.split(' '))].join(' '));
		}
	});

	it('is idempotent', () => {
		const once = normalizeScope(
			`${GRANT} blob?accept=text/html&accept=text/html account:email?action=read&action=manage`,
		);
		expect(normalizeScope(once)).toBe(once);
	});

	it('returns an empty string when nothing parses', () => {
		expect(normalizeScope('openid profile')).toBe('');
	});
});
