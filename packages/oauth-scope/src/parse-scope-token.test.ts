import { describe, expect, it } from 'vitest';

import { parseScopeToken } from './parse-scope-token.ts';

describe('parseScopeToken', () => {
	it('parses each resource into a typed permission with canonical values', () => {
		expect(parseScopeToken('repo:app.bsky.feed.post')).toEqual({
			resource: 'repo',
			collection: ['app.bsky.feed.post'],
			action: ['create', 'update', 'delete'],
		});
		expect(
			parseScopeToken('repo?collection=b.example.foo&collection=a.example.foo&action=delete&action=create'),
		).toEqual({
			resource: 'repo',
			collection: ['a.example.foo', 'b.example.foo'],
			action: ['create', 'delete'],
		});
		expect(parseScopeToken('rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23bsky_appview')).toEqual({
			resource: 'rpc',
			lxm: ['app.bsky.feed.getFeed'],
			aud: 'did:web:api.bsky.app#bsky_appview',
		});
		expect(parseScopeToken('blob?accept=video/*&accept=image/png')).toEqual({
			resource: 'blob',
			accept: ['image/png', 'video/*'],
		});
		// the case is kept: the PDS matches the pattern as written
		expect(parseScopeToken('blob?accept=video/*&accept=IMAGE/PNG&accept=Video/MP4')).toEqual({
			resource: 'blob',
			accept: ['IMAGE/PNG', 'Video/MP4', 'video/*'],
		});
		expect(parseScopeToken('account:email')).toEqual({ resource: 'account', attr: 'email', action: 'read' });
		expect(parseScopeToken('account?action=manage&attr=repo')).toEqual({
			resource: 'account',
			attr: 'repo',
			action: 'manage',
		});
		expect(parseScopeToken('identity:*')).toEqual({ resource: 'identity', attr: '*' });
		expect(parseScopeToken('include:app.bsky.authFullApp')).toEqual({
			resource: 'include',
			nsid: 'app.bsky.authFullApp',
		});
		expect(parseScopeToken('include:app.bsky.authFullApp?aud=did:web:api.bsky.app%23bsky_appview')).toEqual({
			resource: 'include',
			nsid: 'app.bsky.authFullApp',
			aud: 'did:web:api.bsky.app#bsky_appview',
		});
		expect(parseScopeToken('atproto')).toEqual({ resource: 'atproto' });
		expect(parseScopeToken('transition:generic')).toEqual({ resource: 'transition', name: 'generic' });
		expect(parseScopeToken('transition:chat.bsky')).toEqual({ resource: 'transition', name: 'chat.bsky' });
		expect(parseScopeToken('transition:email')).toEqual({ resource: 'transition', name: 'email' });
	});

	it('leaves out an include aud that is not given, rather than setting it to undefined', () => {
		expect(parseScopeToken('include:app.bsky.authFullApp')).not.toHaveProperty('aud');
	});

	it('accepts the valid examples of the permission spec', () => {
		for (const token of [
			'identity:*',
			'identity:*?',
			'rpc?lxm=*&aud=did:web:api.example.com%23svc_appview',
			'blob?accept=video/*&accept=text/html',
			'repo:app.example.profile?action=create&action=update&action=delete',
			'include:app.example.authFull?aud=did:web:api.example.com%23svc_chat',
			'repo:app.example.profile',
			'repo?collection=app.example.profile&collection=app.example.post',
			'repo:*',
			'repo:*?action=delete',
			'rpc:app.example.moderation.createReport?aud=*',
			'blob:*/*',
			'account:email',
			'account:repo?action=manage',
			'identity:handle',
		]) {
			expect(parseScopeToken(token), token).toBeDefined();
		}
	});

	it('refuses the spec examples that are syntactically valid but mean nothing', () => {
		for (const token of [
			'resource',
			'resource:positional?key=val',
			'resource:positional&thing?key=val',
			'service:did:web:com.example#type?key=val',
			'resource:',
			'resource:?',
			'resource:&',
			'resource?',
		]) {
			expect(parseScopeToken(token), token).toBeUndefined();
		}
	});

	it('refuses tokens that are not printable ASCII', () => {
		for (const token of [
			'resource:positional?key=québec',
			'emoji:☺️',
			'blob:image/pngé',
			'repo:a.b.c\t',
			'',
		]) {
			expect(parseScopeToken(token), token).toBeUndefined();
		}
	});

	it('refuses blob patterns with a partial wildcard, which the lexicon spec does not support', () => {
		for (const token of [
			'blob:**/*',
			'blob:ima*ge/*',
			'blob:a*/*',
			'blob:text/ht*',
			'blob:*',
			'blob:image/**',
			'blob?accept=image/png&accept=ima*ge/*',
		]) {
			expect(parseScopeToken(token), token).toBeUndefined();
		}
		expect(parseScopeToken('blob?accept=*/*&accept=image/*')).toEqual({ resource: 'blob', accept: ['*/*'] });
	});

	it('drops each concrete type that a type wildcard covers, over tens of thousands of values', () => {
		// 20,000 types under 2,000 type names, every tenth name also given as `name/*`. the check
		// for a covering wildcard must be a lookup: a scan of the list for each value made 40,000
		// values take seconds (see the note in internal/blob.ts)
		const accept: string[] = [];
		const expected: string[] = [];
		for (let name = 0; name < 2000; name++) {
			const type = `t${name.toString().padStart(4, '0')}`;
			for (let sub = 0; sub < 10; sub++) accept.push(`${type}/s${sub}`);
			if (name % 10 === 0) {
				accept.push(`${type}/*`);
				expected.push(`${type}/*`);
			} else {
				for (let sub = 0; sub < 10; sub++) expected.push(`${type}/s${sub}`);
			}
		}
		const token = `blob?${accept
			.reverse()
			.map((item) => `accept=${item}`)
			.join('&')}`;
		const permission = parseScopeToken(token) as { accept: readonly string[] };
		expect(permission.accept).toHaveLength(200 + 1800 * 10);
		expect(permission.accept).toEqual(expected.sort());
	});

	it('refuses a parameter given both positionally and by name, even with the same value', () => {
		expect(parseScopeToken('repo:app.example.profile?collection=app.example.other')).toBeUndefined();
		expect(parseScopeToken('repo:app.example.profile?collection=app.example.profile')).toBeUndefined();
		expect(parseScopeToken('account:repo?action=manage')).toEqual(
			parseScopeToken('account?action=manage&attr=repo'),
		);
	});

	it('refuses malformed percent-escapes in the positional part, where the reference throws', () => {
		for (const token of ['repo:%E0', 'repo:%zz', 'repo:app.bsky.feed.post%']) {
			expect(parseScopeToken(token), token).toBeUndefined();
		}
	});

	it('reads an account permission listing several actions as its strongest one', () => {
		expect(parseScopeToken('account:email?action=read&action=manage')).toEqual({
			resource: 'account',
			attr: 'email',
			action: 'manage',
		});
		expect(parseScopeToken('account:email?action=read&action=read')).toMatchObject({ action: 'read' });
		expect(parseScopeToken('account:email?action=read&action=delete')).toBeUndefined();
	});

	it('returns frozen permissions', () => {
		const permission = parseScopeToken('repo?collection=a.example.foo&collection=b.example.foo');
		expect(Object.isFrozen(permission)).toBe(true);
		expect(Object.isFrozen((permission as { collection: unknown }).collection)).toBe(true);
	});

	it('throws a TypeError for a token that is not a string', () => {
		expect(() => parseScopeToken(undefined as never)).toThrow(
			new TypeError('scope token must be a string, got undefined'),
		);
		expect(() => parseScopeToken(null as never)).toThrow(TypeError);
	});
});
