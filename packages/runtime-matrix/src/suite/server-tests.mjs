// what runs under Node, Bun and Deno on top of the core: the facade's flow (node:crypto
// signing), the SQLite store over each driver the runtime has, the Redis store and lock over
// ioredis, the PostgreSQL store and lock over pg (node-postgres), and the seed README's samples.
import { tracingChannel } from 'node:diagnostics_channel';
import { lookup } from 'node:dns/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { createRedisLock } from '@atcute/oauth-lock-redis';
import {
	createNodeFetch,
	createWellKnownHandleResolver,
	diagnosticsChannelTracer,
	exportJwkKey,
	fromNodeSavedSession,
	generatePrivateKey,
	importJwkKey,
	MemoryStore,
	OAUTH_TRACING_CHANNELS,
	OAuthClient,
	PrivateNetworkError,
	usesNodeTransport,
} from '@atcute/oauth-node-client';
import { createPostgresLock, PostgresStore } from '@atcute/oauth-store-postgres';
import { RedisStore } from '@atcute/oauth-store-redis';
import { createSqliteLock, SqliteStore } from '@atcute/oauth-store-sqlite';
import { Redis } from 'ioredis';
import pg from 'pg';

import { equal, ok } from './harness.mjs';
import { MOVED_DID, movedEs256kSession } from './moved-es256k-session.mjs';
import { addSeedTests } from './seed-tests.mjs';
import { runSignInFlow } from './sign-in-flow.mjs';

const facadeLib = { OAuthClient, generatePrivateKey, exportJwkKey, importJwkKey };

/** the runtime's own SQLite modules: node:sqlite where it has one, and bun:sqlite under Bun. */
const builtinSqliteDrivers = () => {
	const drivers = [];
	const nodeSqlite = globalThis.process.getBuiltinModule?.('node:sqlite');
	if (nodeSqlite?.DatabaseSync)
		drivers.push({ name: 'node:sqlite', open: (path) => new nodeSqlite.DatabaseSync(path) });
	if (typeof globalThis.Bun !== 'undefined') {
		const { Database } = createRequire(import.meta.url)('bun:sqlite');
		drivers.push({ name: 'bun:sqlite', open: (path) => new Database(path) });
	}
	return drivers;
};

/** adds the facade, store and seed tests to `suite`; `tmpDir` is a fresh directory for files. */
export const addServerTests = (suite, { control, redisUrl, postgresUrl, tmpDir, runtime }) => {
	suite.test('facade (node:crypto): sign-in flow over MemoryStore, session.signOut()', () =>
		runSignInFlow({
			control,
			lib: facadeLib,
			stores: { sessions: new MemoryStore(), states: new MemoryStore() },
			label: 'facade',
		}),
	);

	suite.test(
		'facade: sign-in flow over SqliteStore({ path }) and createSqliteLock, oauth.revoke(did)',
		async () => {
			const path = join(tmpDir, 'by-path.db');
			const sessions = new SqliteStore({ path, table: 'sessions' });
			const states = new SqliteStore({ path, table: 'states' });
			const lock = createSqliteLock({ path });
			try {
				await runSignInFlow({
					control,
					lib: facadeLib,
					stores: { sessions, states },
					requestLock: lock,
					signOut: 'revoke',
					label: 'sqlite-path',
				});
			} finally {
				sessions.close();
				states.close();
				lock.close();
			}
		},
	);

	for (const driver of builtinSqliteDrivers()) {
		suite.test(`facade: sign-in flow over SqliteStore({ database }) on ${driver.name}`, async () => {
			const database = driver.open(join(tmpDir, `${driver.name.replace(':', '-')}.db`));
			database.exec('PRAGMA journal_mode = WAL');
			try {
				await runSignInFlow({
					control,
					lib: facadeLib,
					stores: {
						sessions: new SqliteStore({ database, table: 'sessions' }),
						states: new SqliteStore({ database, table: 'states' }),
					},
					requestLock: createSqliteLock({ database }),
					label: `sqlite-${driver.name.replace(':', '-')}`,
				});
			} finally {
				database.close();
			}
		});
	}

	suite.test('facade: sign-in flow over RedisStore and createRedisLock (ioredis)', async () => {
		const redis = new Redis(redisUrl, {
			lazyConnect: true,
			maxRetriesPerRequest: 1,
			autoResendUnfulfilledCommands: false,
		});
		await redis.connect();
		// one lane's keys apart from every other lane's on the shared server
		const prefix = `matrix:${runtime.name}:${runtime.version}:`;
		try {
			await runSignInFlow({
				control,
				lib: facadeLib,
				stores: {
					sessions: new RedisStore({ redis, prefix: `${prefix}session:` }),
					states: new RedisStore({ redis, prefix: `${prefix}state:` }),
				},
				requestLock: createRedisLock({ redis, prefix: `${prefix}lock:` }),
				label: 'redis',
			});
		} finally {
			redis.disconnect();
		}
	});

	suite.test('facade: sign-in flow over PostgresStore and createPostgresLock (pg)', async () => {
		// postgresUrl names this lane's own database; the lock has a pool of its own, as the
		// store's README sets it up (a held lock keeps a connection while the refresh queries)
		const pool = new pg.Pool({ connectionString: postgresUrl });
		const lockPool = new pg.Pool({ connectionString: postgresUrl, max: 5 });
		// pg throws an idle connection's error when nobody listens
		pool.on('error', () => {});
		lockPool.on('error', () => {});
		try {
			const sessions = new PostgresStore({ pool, table: 'oauth_sessions' });
			const states = new PostgresStore({ pool, table: 'oauth_states' });
			await Promise.all([sessions.migrate(), states.migrate()]);
			await runSignInFlow({
				control,
				lib: facadeLib,
				stores: { sessions, states },
				requestLock: createPostgresLock({ pool: lockPool }),
				label: 'postgres',
			});
		} finally {
			await Promise.all([pool.end(), lockPool.end()]);
		}
	});

	suite.test(
		'facade: the sign-in flow traced on node:diagnostics_channel, as the README subscribes',
		async () => {
			const starts = { authorize: 0, callback: 0, refresh: 0, request: 0 };
			const results = [];
			const subscriptions = Object.entries(OAUTH_TRACING_CHANNELS).map(([operation, name]) => {
				const handlers = {
					start: () => starts[operation]++,
					end: () => {},
					asyncStart: (message) => results.push(message.result),
					asyncEnd: () => {},
					error: () => {},
				};
				tracingChannel(name).subscribe(handlers);
				return () => tracingChannel(name).unsubscribe(handlers);
			});
			try {
				if (diagnosticsChannelTracer.isTracing('request') !== true) {
					throw new Error(
						`isTracing('request') is ${diagnosticsChannelTracer.isTracing('request')} with a subscriber`,
					);
				}
				await runSignInFlow({
					control,
					lib: facadeLib,
					stores: { sessions: new MemoryStore(), states: new MemoryStore() },
					label: 'traced',
				});
			} finally {
				for (const unsubscribe of subscriptions) unsubscribe();
			}
			// one sign-in, a burst after expiry (one refresh) and a forced refresh, calls in between
			equal(starts.authorize, 1, 'authorize starts');
			equal(starts.callback, 1, 'callback starts');
			ok(starts.refresh >= 2, `refresh starts: ${starts.refresh}`);
			ok(starts.request >= 20, `request starts: ${starts.request}`);
			// what the operations return (tokens, sessions) never reaches a message
			ok(
				results.every((result) => result === undefined),
				'a message carried a result',
			);
			equal(diagnosticsChannelTracer.isTracing('request'), false, 'isTracing after unsubscribing');
		},
	);

	suite.test('facade: the transport this runtime gets, and the SSRF guard on it', async () => {
		const { pdsUrl } = await control.urls();
		const onNode = runtime.name.startsWith('node');
		if (usesNodeTransport() !== onNode) {
			throw new Error(`usesNodeTransport() is ${usesNodeTransport()} on ${runtime.name}`);
		}
		if (onNode) {
			// the Node transport reaches a loopback server only when told to, and refuses it otherwise
			const open = await createNodeFetch({ allowPrivateNetwork: true })(
				`${pdsUrl}/.well-known/oauth-protected-resource`,
			);
			await open.arrayBuffer();
			if (!(open instanceof Response)) throw new Error('the Node transport returned no Response');
			const refused = await createNodeFetch()(`${pdsUrl}/.well-known/oauth-protected-resource`).then(
				() => undefined,
				(err) => err,
			);
			if (!(refused instanceof PrivateNetworkError) || refused.kind !== 'loopback') {
				throw new Error(`a loopback request was not refused as loopback: ${refused}`);
			}
		} else {
			// Bun and Deno only emulate node:http: a guard there is refused, not silently skipped
			let threw = false;
			try {
				createNodeFetch();
			} catch (err) {
				threw = err instanceof TypeError;
			}
			if (!threw) throw new Error(`createNodeFetch() built a guarded transport on ${runtime.name}`);
			createNodeFetch({ allowPrivateNetwork: true });
		}
	});

	suite.test(
		'facade: createWellKnownHandleResolver on the global fetch, a host that does not exist',
		async () => {
			// Deno's fetch reads its proxy from the environment, and then the failed lookup may be the proxy's
			if (
				['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'].some((name) => globalThis.process.env[name])
			)
				return;
			// what this machine's DNS says of a name that exists nowhere (RFC 6761): ENOTFOUND, or
			// EAI_AGAIN where it cannot answer (no network); each runtime's fetch carries it its own way
			const host = 'nonexistent-host.invalid';
			const code = await lookup(host).then(
				() => 'resolved',
				(err) => err.code,
			);
			const error = await createWellKnownHandleResolver({ fetch: globalThis.fetch })
				.resolve(host)
				.catch((err) => err);
			equal(error?.reason, code === 'ENOTFOUND' ? 'not_found' : 'unavailable', `reason (lookup: ${code})`);
		},
	);

	suite.test(
		'facade: a session from @atproto/oauth-client-node with its ES256K key restores where node:crypto has secp256k1',
		async () => {
			const key = await generatePrivateKey('main', 'ES256');
			const sessions = new MemoryStore();
			const did = MOVED_DID;
			await sessions.set(did, movedEs256kSession(fromNodeSavedSession));
			const oauth = new OAuthClient({
				metadata: {
					client_id: 'https://app.example.com/oauth-client-metadata.json',
					redirect_uris: ['https://app.example.com/oauth/callback'],
					scope: ['atproto'],
				},
				keyset: [key],
				stores: { sessions, states: new MemoryStore() },
				// restoring a session with a fresh token resolves no identity
				actorResolver: {
					resolve: async () => {
						throw new Error('no identity is resolved here');
					},
				},
			});
			// a fresh token: restore sends nothing, and imports the key
			const restored = await oauth.restore(did).then(
				(session) => session.did,
				(err) => `${err?.name} ${err?.reason}`,
			);
			equal(
				restored,
				runtime.name === 'bun' ? 'InvalidKeyError unsupported_alg' : did,
				`restore on ${runtime.name}`,
			);
		},
	);

	addSeedTests(suite, { control, tmpDir });
};
