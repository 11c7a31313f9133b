// the Workers entry point with nodejs_compat: the core's tests, then the same flow through the
// facade @atcute/oauth-node-client (its node:crypto signer, as workerd's node:crypto provides it).

import * as facade from '@atcute/oauth-node-client';
import {
	createNodeFetch,
	exportJwkKey,
	generatePrivateKey,
	importJwkKey,
	MemoryStore,
	OAuthClient,
} from '@atcute/oauth-node-client';
import { SqliteStore, StoreUnavailableError } from '@atcute/oauth-store-sqlite';
import { createControl } from './suite/control.mjs';
import { addCoreTests } from './suite/core-tests.mjs';
import { createSuite } from './suite/harness.mjs';
import { coreLifecycleLib } from './suite/lifecycle-libs.mjs';
import { addLifecycleTests } from './suite/lifecycle-tests.mjs';
import { runSignInFlow } from './suite/sign-in-flow.mjs';
import { addEs256kRestoreTest, addTracingTests } from './suite/tracing-tests.mjs';

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
		suite.test(
			'facade (nodejs_compat): createNodeFetch where node:http exists, or a TypeError that says so',
			async () => {
				const { pdsUrl } = await control.urls();
				const answer = await createNodeFetch({ allowPrivateNetwork: true })(
					`${pdsUrl}/.well-known/oauth-protected-resource`,
				).then(
					(response) => response,
					(err) => err,
				);
				if (answer instanceof Response) {
					await answer.arrayBuffer();
					if (answer.status !== 200) throw new Error(`the transport got ${answer.status}`);
					// workerd's node:http fills `headers` only, not `rawHeaders`: they must come through
					const type = answer.headers.get('content-type');
					if (!type?.startsWith('application/json')) {
						throw new Error(`the transport's response lost its headers: content-type ${type}`);
					}
				} else if (!(answer instanceof TypeError) || !answer.message.includes('use its global fetch')) {
					throw new Error(`the transport failed without saying what to do: ${answer}`);
				}
			},
		);
		suite.test(
			'SqliteStore({ path }): opens, or fails for good with a StoreUnavailableError that says to use another store',
			() => {
				let answer;
				try {
					answer = new SqliteStore({ path: '/tmp/atcute-oauth-matrix.db' });
				} catch (err) {
					answer = err;
				}
				if (answer instanceof SqliteStore) return;
				if (
					!(answer instanceof StoreUnavailableError) ||
					answer.transient ||
					!answer.message.includes('use another store')
				) {
					throw new Error(`SqliteStore failed without saying what to do: ${answer}`);
				}
			},
		);
		// before the lifecycle tests: those end a grant on purpose, which the flow's refusal check would see
		addTracingTests(suite, { control });
		addEs256kRestoreTest(suite);
		addLifecycleTests(suite, { control, lib: coreLifecycleLib, label: 'core' });
		addLifecycleTests(suite, { control, lib: facade, label: 'facade' });
		return Response.json({ results: await suite.run(config.filter) });
	},
};
