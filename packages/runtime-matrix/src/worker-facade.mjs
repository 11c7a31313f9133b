// the Workers entry point with nodejs_compat: the core's tests, then the same flow through the
// facade @atcute/oauth-node-client (its node:crypto signer, as workerd's node:crypto provides it).
import {
	exportJwkKey,
	generatePrivateKey,
	importJwkKey,
	MemoryStore,
	OAuthClient,
} from '@atcute/oauth-node-client';

import { createControl } from './suite/control.mjs';
import { addCoreTests } from './suite/core-tests.mjs';
import { createSuite } from './suite/harness.mjs';
import { runSignInFlow } from './suite/sign-in-flow.mjs';

export default {
	async fetch(request) {
		const config = await request.json();
		const control = createControl(config.controlUrl);
		const suite = createSuite();
		addCoreTests(suite, { control });
		suite.test('facade (nodejs_compat): sign-in flow over MemoryStore, session.signOut()', () =>
			runSignInFlow({
				control,
				lib: { OAuthClient, generatePrivateKey, exportJwkKey, importJwkKey },
				stores: { sessions: new MemoryStore(), states: new MemoryStore() },
				label: 'facade-workerd',
			}),
		);
		return Response.json({ results: await suite.run(config.filter) });
	},
};
