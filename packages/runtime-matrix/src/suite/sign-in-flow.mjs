// the documented flow, end to end against the test server: keys, login by handle, calls through
// @atcute/client, a 20-call burst after the server expired the access token (exactly one
// refresh), a forced refresh, sign-out. the same steps for the facade (node:crypto signing) and
// the runtime-agnostic core (WebCrypto signing), over whichever stores and lock a lane gives.
import { Client } from '@atcute/client';
import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';

import { equal, ok, rejects } from './harness.mjs';

/** how many calls go out at once after the access token expired. */
const BURST = 20;

let accountSeq = 0;

/**
 * runs the flow once. `lib` is `{ OAuthClient, generatePrivateKey, exportJwkKey, importJwkKey }`
 * from the facade or the core; `stores` and `requestLock` are what the lane tests;
 * `signOut` is `'session'` (`session.signOut()`) or `'revoke'` (`oauth.revoke(did)`).
 */
export const runSignInFlow = async ({ control, lib, stores, requestLock, signOut = 'session', label }) => {
	const { plcUrl, pdsUrl } = await control.urls();
	accountSeq += 1;
	const account = await control.createAccount(`${label}-${accountSeq}.test`.toLowerCase());

	// keys: generated, exported as the setup script does, imported back from JSON text
	const generated = await lib.generatePrivateKey('main', 'ES256');
	const jwkJson = JSON.stringify(await lib.exportJwkKey(generated));
	const keyset = await Promise.all([lib.importJwkKey(jwkJson)]);

	const oauth = new lib.OAuthClient({
		metadata: {
			client_id: 'https://app.example.com/oauth-client-metadata.json',
			redirect_uris: ['https://app.example.com/oauth/callback'],
			scope: ['transition:generic'],
		},
		keyset,
		stores,
		...(requestLock ? { requestLock } : {}),
		actorResolver: new LocalActorResolver({
			handleResolver: new XrpcHandleResolver({ serviceUrl: pdsUrl }),
			didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: plcUrl }),
		}),
		// the test server listens on http://127.0.0.1
		allowHttp: true,
	});
	// no jwks_uri: the metadata carries the public keys inline
	equal(oauth.metadata.jwks?.keys?.length, 1, 'inline jwks');
	await control.registerClient(oauth.metadata);

	// login by handle
	const { url } = await oauth.authorize({
		target: { type: 'account', identifier: account.handle },
		state: { returnTo: '/protected' },
	});
	const params = await control.authorize(url, account.did);
	const callbackUrl = new URL(`https://app.example.com/oauth/callback?${params}`);
	const { session, state } = await oauth.callback(callbackUrl.searchParams);
	equal(session.did, account.did, 'session.did');
	equal(state, { returnTo: '/protected' }, 'app state');

	// calls through @atcute/client, on a restored session
	const restored = await oauth.restore(account.did);
	const client = new Client({ handler: restored });
	const first = await client.get('com.atproto.server.getSession');
	ok(first.ok, `getSession: ${JSON.stringify(first.data)}`);
	equal(first.data.did, account.did, 'getSession did');
	const created = await client.post('com.atproto.repo.createRecord', {
		input: { repo: account.did, collection: 'app.example.note', record: { text: `hello from ${label}` } },
	});
	ok(created.ok, `createRecord: ${JSON.stringify(created.data)}`);

	// the server expires the access token; 20 calls at once: every one succeeds after one refresh
	const before = await control.statsFor(account.did);
	equal(before.refreshes, 0, 'refreshes before the burst');
	await control.expireAccessTokens(account.did);
	const burst = await Promise.all(
		Array.from({ length: BURST }, () => client.get('com.atproto.server.getSession')),
	);
	equal(
		burst.filter((response) => response.ok && response.data.did === account.did).length,
		BURST,
		'burst calls that succeeded',
	);
	equal((await control.statsFor(account.did)).refreshes, 1, 'refreshes after the burst');

	// a forced refresh, then a call on the new token
	const forced = await oauth.restore(account.did, { refresh: true });
	equal((await control.statsFor(account.did)).refreshes, 2, 'refreshes after restore({ refresh: true })');
	const afterForced = await new Client({ handler: forced }).get('com.atproto.server.getSession');
	ok(afterForced.ok, 'getSession after the forced refresh');

	// sign-out: the grant ends on the server and the session is gone here
	equal((await control.statsFor(account.did)).activeGrants, 1, 'active grants before sign-out');
	if (signOut === 'revoke') await oauth.revoke(account.did);
	else await forced.signOut();
	equal((await control.statsFor(account.did)).activeGrants, 0, 'active grants after sign-out');
	await rejects(oauth.restore(account.did), 'SessionNotFoundError', 'restore after sign-out');

	// every proof and assertion passed: the only refusals are the expired or replaced access
	// tokens the burst ran into on purpose
	const refused = (await control.rejections()).filter((line) => !line.includes(' 401 invalid_token: '));
	equal(refused, [], 'requests the test server refused');
};
