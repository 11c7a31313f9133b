import { describe, expect, it } from 'vitest';

import {
	AuthMethodUnsatisfiableError,
	ClientClosedError,
	IdentityMismatchError,
	IdentityResolutionError,
	InvalidResponseError,
	LockTimeoutError,
	LockUnavailableError,
	OAuthCallbackError,
	type OAuthClientErrorCode,
	OAuthResponseError,
	OAuthTransientError,
	SessionNotFoundError,
	TokenRefreshError,
} from './errors.ts';

const DID = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';

describe('error classes', () => {
	const cases: [Error & { code: OAuthClientErrorCode }, string, OAuthClientErrorCode][] = [
		[new OAuthCallbackError('access_denied'), 'OAuthCallbackError', 'ERR_OAUTH_CALLBACK'],
		[new OAuthResponseError('token', 400, 'invalid_grant'), 'OAuthResponseError', 'ERR_OAUTH_RESPONSE'],
		[new OAuthTransientError('network', 'down'), 'OAuthTransientError', 'ERR_OAUTH_TRANSIENT'],
		[new InvalidResponseError('token', 'bad'), 'InvalidResponseError', 'ERR_INVALID_RESPONSE'],
		[new TokenRefreshError(DID, 'invalid_grant', 'refused'), 'TokenRefreshError', 'ERR_TOKEN_REFRESH'],
		[new SessionNotFoundError(DID), 'SessionNotFoundError', 'ERR_SESSION_NOT_FOUND'],
		[
			new AuthMethodUnsatisfiableError(DID, 'main'),
			'AuthMethodUnsatisfiableError',
			'ERR_AUTH_METHOD_UNSATISFIABLE',
		],
		[new IdentityMismatchError('sub', DID, DID), 'IdentityMismatchError', 'ERR_IDENTITY_MISMATCH'],
		[new IdentityResolutionError('alice.test'), 'IdentityResolutionError', 'ERR_IDENTITY_RESOLUTION'],
		[new LockTimeoutError('x', 10), 'LockTimeoutError', 'ERR_LOCK_TIMEOUT'],
		[new LockUnavailableError('x', 'down'), 'LockUnavailableError', 'ERR_LOCK_UNAVAILABLE'],
		[new ClientClosedError('refresh'), 'ClientClosedError', 'ERR_CLIENT_CLOSED'],
	];

	it.each(cases)('%o carries its stable name and code', (error, name, code) => {
		expect(error.name).toBe(name);
		expect(error.code).toBe(code);
		expect(error).toBeInstanceOf(Error);
	});

	// what the README's Errors section says an error keeps on its way to a log or another thread:
	// JSON keeps the own fields (name and code among them), a structured clone only the message
	it.each(cases)(
		'%o keeps its name and code through JSON, not through a structured clone',
		(error, name, code) => {
			expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name, code });
			const cloned = structuredClone(error);
			expect(cloned).toMatchObject({ name: 'Error', message: error.message });
			expect((cloned as { code?: unknown }).code).toBeUndefined();
		},
	);

	it('gives every class its own code', () => {
		expect(new Set(cases.map(([error]) => error.code)).size).toBe(cases.length);
	});

	it('makes an IdentityResolutionError transient only when the identity is unavailable for now', () => {
		const cause = new Error('fetch failed');
		expect(new IdentityResolutionError('alice.test', { cause })).toMatchObject({
			reason: 'unavailable',
			transient: true,
			cause,
			message: 'could not resolve alice.test',
		});
		const gone = new IdentityResolutionError(DID, { reason: 'not_found', detail: 'gone' });
		expect(gone).toMatchObject({ reason: 'not_found', transient: false, identifier: DID });
		expect(gone.message).toBe(`could not resolve ${DID}: gone`);
	});

	it('makes a LockUnavailableError transient unless the adapter says the failure is permanent', () => {
		const cause = new Error('the database connection is not open');
		expect(new LockUnavailableError('x', 'down')).toMatchObject({ transient: true });
		expect(new LockUnavailableError('x', 'down', { cause })).toMatchObject({ transient: true, cause });
		// a closed SQLite database will not come back: a caller that follows `transient` stops retrying
		const closed = new LockUnavailableError('x', 'closed', { cause, transient: false });
		expect(closed).toMatchObject({ transient: false, cause, message: 'closed', lockName: 'x' });
	});
});
