// the runtime-agnostic core: @atcute/oauth-client with WebCrypto signing (its default) and
// MemoryStore. needs only fetch, WebCrypto and timers, so it runs in every lane, workerd included.
import { createMemoryLock, OAuthClient } from '@atcute/oauth-client';
import { exportJwkKey, generatePrivateKey, importJwkKey } from '@atcute/oauth-keys';
import { MemoryStore } from '@atcute/oauth-store-memory';

import { runSignInFlow } from './sign-in-flow.mjs';

/** the core's exports in the shape the flow takes. */
export const coreLib = { OAuthClient, generatePrivateKey, exportJwkKey, importJwkKey };

/** adds the core's tests to `suite`. */
export const addCoreTests = (suite, { control }) => {
	suite.test('core (WebCrypto): sign-in flow over MemoryStore, session.signOut()', () =>
		runSignInFlow({
			control,
			lib: coreLib,
			stores: { sessions: new MemoryStore(), states: new MemoryStore() },
			label: 'core',
		}),
	);
	suite.test('core (WebCrypto): sign-in flow with an explicit memory lock, oauth.revoke(did)', () =>
		runSignInFlow({
			control,
			lib: coreLib,
			stores: { sessions: new MemoryStore(), states: new MemoryStore() },
			requestLock: createMemoryLock(),
			signOut: 'revoke',
			label: 'core-revoke',
		}),
	);
};
