// the seed README's samples (the documented API of @atcute/oauth-node-client), run as written
// but for what a comment names. the sign-in samples (authorize, callback, restore, revoke,
// signOut) run in sign-in-flow.mjs; here: the key setup script, the documented client, and the
// custom stores shape.
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import {
	CompositeDidDocumentResolver,
	CompositeHandleResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
	WebDidDocumentResolver,
	WellKnownHandleResolver,
} from '@atcute/identity-resolver';
import { NodeDnsHandleResolver } from '@atcute/identity-resolver-node';
import {
	exportJwkKey,
	generatePrivateKey,
	importJwkKey,
	MemoryStore,
	OAuthClient,
	scope,
} from '@atcute/oauth-node-client';

import { equal, ok, rejects } from './harness.mjs';

/** scripts/setup-env.mjs from the seed; `cwd` stands for `process.cwd()` (the lane runs elsewhere). */
const setupEnv = async (cwd) => {
	const ensureEnvLocal = async () => {
		const envPath = resolve(cwd, '.env');
		const envLocalPath = resolve(cwd, '.env.local');

		if (!existsSync(envLocalPath)) {
			await copyFile(envPath, envLocalPath);
		}

		return envLocalPath;
	};

	const upsertEnvVar = (input, key, value) => {
		const line = `${key}=${value}`;
		const re = new RegExp(`^${key}=.*$`, 'm');

		if (re.test(input)) {
			const match = input.match(re);
			const current = match ? match[0].slice(key.length + 1) : '';
			const trimmed = current.trim();

			if (trimmed === '' || trimmed === `''` || trimmed === `""`) {
				return input.replace(re, line);
			}

			return input;
		}

		const suffix = input.endsWith('\n') || input.length === 0 ? '' : '\n';
		return `${input}${suffix}${line}\n`;
	};

	const envLocalPath = await ensureEnvLocal();
	const envLocal = await readFile(envLocalPath, 'utf8');

	const privateKey = await generatePrivateKey('main', 'ES256');
	const jwk = await exportJwkKey(privateKey);

	// sanity-check that the key parses before writing
	await importJwkKey(jwk);

	const jwkJson = JSON.stringify(jwk);
	const updated = upsertEnvVar(envLocal, 'PRIVATE_KEY_JWK', `'${jwkJson}'`);

	if (updated !== envLocal) {
		await writeFile(envLocalPath, updated);
		return `updated ${envLocalPath}`;
	}
	return `no changes to ${envLocalPath}`;
};

/** the value of PRIVATE_KEY_JWK in an env file, unquoted (what a dotenv loader hands the app). */
const readEnvKey = (text) => /^PRIVATE_KEY_JWK='(.*)'$/m.exec(text)?.[1];

/** adds the seed's samples to `suite`. */
export const addSeedTests = (suite, { tmpDir }) => {
	suite.test(
		'seed: setup-env writes a key to .env.local once, and the keyset sample imports it',
		async () => {
			await writeFile(resolve(tmpDir, '.env'), 'PRIVATE_KEY_JWK=\n');
			equal(await setupEnv(tmpDir), `updated ${resolve(tmpDir, '.env.local')}`, 'first run');
			const first = await readFile(resolve(tmpDir, '.env.local'), 'utf8');
			// a second run keeps the key it wrote
			equal(await setupEnv(tmpDir), `no changes to ${resolve(tmpDir, '.env.local')}`, 'second run');
			equal(await readFile(resolve(tmpDir, '.env.local'), 'utf8'), first, '.env.local after the second run');

			const PRIVATE_KEY_JWK = readEnvKey(first);
			ok(PRIVATE_KEY_JWK, 'PRIVATE_KEY_JWK in .env.local');
			// "create a keyset at runtime"
			const keyset = await Promise.all([importJwkKey(PRIVATE_KEY_JWK)]);
			equal(keyset.length, 1, 'keyset size');
			equal(JSON.parse(PRIVATE_KEY_JWK).kid, 'main', 'kid');
			equal(JSON.parse(PRIVATE_KEY_JWK).alg, 'ES256', 'alg');
		},
	);

	suite.test('seed: the documented client builds, with its metadata, scope and jwks', async () => {
		const PRIVATE_KEY_JWK = JSON.stringify(await exportJwkKey(await generatePrivateKey('main', 'ES256')));
		const oauth = new OAuthClient({
			metadata: {
				client_id: 'https://example.com/oauth-client-metadata.json',
				redirect_uris: ['https://example.com/oauth/callback'],
				scope: [
					scope.include({
						nsid: 'app.bsky.authFullApp',
						aud: 'did:web:api.bsky.app#bsky_appview',
					}),
					scope.include({
						nsid: 'chat.bsky.authFullChatClient',
						aud: 'did:web:api.bsky.chat#bsky_chat',
					}),

					scope.rpc({ lxm: ['com.atproto.moderation.createReport'], aud: '*' }),
					scope.blob({ accept: ['image/*', 'video/*'] }),
					scope.account({ attr: 'email', action: 'manage' }),
					scope.identity({ attr: 'handle' }),
				],
				jwks_uri: 'https://example.com/jwks.json',
			},

			// the seed reads process.env.PRIVATE_KEY_JWK
			keyset: await Promise.all([importJwkKey(PRIVATE_KEY_JWK)]),

			stores: {
				sessions: new MemoryStore(),
				states: new MemoryStore(),
			},
			// the seed leaves this body as `// ...`: a pass-through fits one process
			async requestLock(_name, fn) {
				return fn();
			},

			actorResolver: new LocalActorResolver({
				handleResolver: new CompositeHandleResolver({
					methods: {
						dns: new NodeDnsHandleResolver(),
						http: new WellKnownHandleResolver(),
					},
				}),
				didDocumentResolver: new CompositeDidDocumentResolver({
					methods: {
						plc: new PlcDidDocumentResolver(),
						web: new WebDidDocumentResolver(),
					},
				}),
			}),
		});

		equal(
			oauth.metadata.scope,
			[
				'atproto',
				'include:app.bsky.authFullApp?aud=did:web:api.bsky.app%23bsky_appview',
				'include:chat.bsky.authFullChatClient?aud=did:web:api.bsky.chat%23bsky_chat',
				'rpc:com.atproto.moderation.createReport?aud=*',
				'blob?accept=image/*&accept=video/*',
				'account:email?action=manage',
				'identity:handle',
			].join(' '),
			'metadata.scope',
		);
		equal(oauth.metadata.token_endpoint_auth_method, 'private_key_jwt', 'token_endpoint_auth_method');
		equal(oauth.metadata.jwks_uri, 'https://example.com/jwks.json', 'jwks_uri');
		equal(oauth.metadata.jwks, undefined, 'inline jwks (none with jwks_uri)');
		const publicKeys = oauth.jwks.keys;
		equal(publicKeys.length, 1, 'published keys');
		equal(publicKeys[0].kid, 'main', 'published kid');
		equal(publicKeys[0].d, undefined, 'private part published');
	});

	suite.test(
		'seed: the custom stores shape builds a client, and an empty store restores nothing',
		async () => {
			const stores = {
				sessions: {
					async get(_did, _options) {
						return undefined;
					},
					async set(_did, _session) {},
					async delete(_did) {},
					async clear() {},
				},
				states: {
					async get(_stateId, _options) {
						return undefined;
					},
					async set(_stateId, _state) {},
					async delete(_stateId) {},
					async clear() {},
				},
			};
			const oauth = new OAuthClient({
				metadata: {
					client_id: 'https://example.com/oauth-client-metadata.json',
					redirect_uris: ['https://example.com/oauth/callback'],
					scope: [scope.transition.generic],
				},
				keyset: [await generatePrivateKey('main', 'ES256')],
				stores,
				actorResolver: new LocalActorResolver({
					handleResolver: new WellKnownHandleResolver(),
					didDocumentResolver: new PlcDidDocumentResolver(),
				}),
			});
			await rejects(oauth.restore('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'), 'SessionNotFoundError', 'restore');
		},
	);
};
