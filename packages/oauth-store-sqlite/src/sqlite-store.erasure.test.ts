// what is left of a user in the SQLite file after they sign out: SQLite leaves a deleted row's
// bytes in the page's free space (and a freed page as it was), so without `secure_delete` the
// tokens and the DPoP private key of a signed-out session stay readable in the file
import { readFileSync } from 'node:fs';

import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import {
	generatePrivateKey,
	OAuthClient,
	type StoredSession,
	type StoredState,
} from '@atcute/oauth-node-client';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { tempDir } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { createSqliteLock } from './sqlite-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

describe('SqliteStore, after a sign-out', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	const temp = tempDir();
	beforeAll(async () => {
		server = await startTestOAuthServer();
		alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	});
	afterAll(async () => {
		await server.close();
		temp.remove();
	});

	const signIn = async (path: string, options: { secureDelete?: boolean } = {}) => {
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: 'sessions', ...options });
		const states = new SqliteStore<string, StoredState>({ path, table: 'states', ...options });
		const oauth = new OAuthClient({
			metadata: {
				client_id: 'https://app.example.com/oauth-client-metadata.json',
				redirect_uris: ['https://app.example.com/oauth/callback'],
				scope: ['atproto', 'transition:generic'],
			},
			keyset: [await generatePrivateKey('main')],
			stores: { sessions, states },
			actorResolver: new LocalActorResolver({
				handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
				didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
			}),
			allowHttp: true,
		});
		server.registerClient(oauth.metadata);
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: alice.handle } });
		// the state row, with the PKCE verifier and the sign-in's DPoP key, before the callback takes it
		const raw = openRawDatabase(path);
		const [stateRow] = raw.prepare('SELECT value FROM states').all();
		raw.close();
		const state = JSON.parse(stateRow!.value as string) as StoredState;
		const { session } = await oauth.callback(await server.authorize(url, { did: alice.did }));
		const stored = (await sessions.get(alice.did))!;
		return { oauth, session, sessions, states, stored, state };
	};

	/** the secrets of a session and of its sign-in's state, which must not outlive them. */
	const secretsOf = (stored: StoredSession, state: StoredState) => ({
		access_token: stored.tokenSet.access_token,
		refresh_token: stored.tokenSet.refresh_token!,
		'session DPoP key': stored.dpopKey.d,
		'PKCE verifier': state.verifier,
		'state DPoP key': state.dpopKey.d,
		DID: stored.tokenSet.sub,
	});

	/** the secrets still found in the database file (the WAL settled into it at close). */
	const leftIn = (path: string, secrets: Record<string, string>): string[] => {
		const bytes = readFileSync(path).toString('latin1');
		return Object.entries(secrets)
			.filter(([, secret]) => bytes.includes(secret))
			.map(([name]) => name);
	};

	it('leaves no token, private key or PKCE verifier of the session in the file', async () => {
		const path = temp.file('signed-out.db');
		const { session, sessions, states, stored, state } = await signIn(path);
		await session.signOut();
		sessions.close();
		states.close();
		expect(leftIn(path, secretsOf(stored, state))).toEqual([]);
	});

	it('keeps them in the file with secureDelete: false (what SQLite does by default)', async () => {
		const path = temp.file('kept.db');
		const { session, sessions, states, stored, state } = await signIn(path, { secureDelete: false });
		await session.signOut();
		sessions.close();
		states.close();
		expect(leftIn(path, secretsOf(stored, state))).toContain('refresh_token');
	});
});

describe('secureDelete', () => {
	const temp = tempDir();
	afterAll(() => temp.remove());

	it('is a boolean: anything else is a TypeError naming it', () => {
		const path = temp.file();
		expect(() => new SqliteStore({ path, secureDelete: 'on' as never })).toThrow(
			/secureDelete must be a boolean, got string/,
		);
		expect(() => createSqliteLock({ path, secureDelete: 1 as never })).toThrow(/secureDelete/);
	});

	it('is on for the lock too: a released lease leaves no DID in the file', async () => {
		const path = temp.file('lock.db');
		const lock = createSqliteLock({ path });
		const name = 'oauth-session-did:plc:erasedaccount00000000';
		await lock(name, async () => {});
		lock.close();
		expect(readFileSync(path).toString('latin1')).not.toContain(name);
	});
});

describe('SqliteStore, an entry that runs out while no one writes', () => {
	const temp = tempDir();
	afterAll(() => temp.remove());

	it('is purged from the file once it has run out: an abandoned sign-in leaves no state behind', async () => {
		const path = temp.file('abandoned.db');
		const states = new SqliteStore<string, { verifier: string }>({ path });
		const verifier = `verifier-${'x'.repeat(40)}`;
		// a sign-in left at the server's page: its state runs out, and the app writes nothing more
		await states.set('state-1', { verifier }, { expiresAt: Date.now() + 50 });
		const raw = openRawDatabase(path);
		try {
			await vi.waitFor(
				() => expect(raw.prepare('SELECT count(*) AS n FROM oauth_store').get()).toEqual({ n: 0 }),
				{ timeout: 4000, interval: 20 },
			);
		} finally {
			raw.close();
			states.close();
		}
		expect(readFileSync(path).toString('latin1')).not.toContain(verifier);
	});

	it('is purged when it was left by a process before this one', async () => {
		const path = temp.file('restarted.db');
		const before = new SqliteStore<string, number>({ path });
		await before.set('state-1', 1, { expiresAt: Date.now() + 50 });
		before.close();
		const states = new SqliteStore<string, number>({ path });
		const raw = openRawDatabase(path);
		try {
			await vi.waitFor(
				() => expect(raw.prepare('SELECT count(*) AS n FROM oauth_store').get()).toEqual({ n: 0 }),
				{ timeout: 4000, interval: 20 },
			);
		} finally {
			raw.close();
			states.close();
		}
	});
});
