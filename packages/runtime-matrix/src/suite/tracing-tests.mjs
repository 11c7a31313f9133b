// tracing: the facade's diagnosticsChannelTracer, as the README subscribes.
import { tracingChannel } from 'node:diagnostics_channel';

import * as facade from '@atcute/oauth-node-client';

import { equal, ok } from './harness.mjs';
import { MOVED_DID, movedEs256kSession } from './moved-es256k-session.mjs';
import { runSignInFlow } from './sign-in-flow.mjs';

const lib = facade;
export const addTracingTests = (suite, { control }) => {
	suite.test('tracing: README subscriber (five handlers) sees refresh start/asyncEnd', async () => {
		const seen = { start: 0, asyncEnd: 0, error: 0 };
		const handlers = {
			start: () => seen.start++,
			end: () => {},
			asyncStart: () => {},
			asyncEnd: () => seen.asyncEnd++,
			error: () => seen.error++,
		};
		tracingChannel(lib.OAUTH_TRACING_CHANNELS.refresh).subscribe(handlers);
		try {
			await runSignInFlow({
				control,
				lib,
				stores: { sessions: new lib.MemoryStore(), states: new lib.MemoryStore() },
				label: 'trace5',
			});
		} finally {
			tracingChannel(lib.OAUTH_TRACING_CHANNELS.refresh).unsubscribe(handlers);
		}
		ok(seen.start >= 2, `starts ${seen.start}`);
		equal(seen.asyncEnd, seen.start, 'asyncEnd count');
	});

	suite.test('tracing: a subscriber with only start and asyncEnd (Node skips missing ones)', async () => {
		const seen = { start: 0, asyncEnd: 0 };
		const handlers = { start: () => seen.start++, asyncEnd: () => seen.asyncEnd++ };
		tracingChannel(lib.OAUTH_TRACING_CHANNELS.request).subscribe(handlers);
		try {
			await runSignInFlow({
				control,
				lib,
				stores: { sessions: new lib.MemoryStore(), states: new lib.MemoryStore() },
				label: 'trace2',
			});
		} finally {
			tracingChannel(lib.OAUTH_TRACING_CHANNELS.request).unsubscribe(handlers);
		}
		ok(seen.start >= 20, `starts ${seen.start}`);
		equal(seen.asyncEnd, seen.start, 'asyncEnd count');
	});

	suite.test('tracing: a subscriber that throws does not change the operation', async () => {
		const proc = globalThis.process;
		const caught = [];
		const onUncaught = (err) => caught.push(err);
		proc?.on?.('uncaughtException', onUncaught);
		let thrown = 0;
		const handlers = {
			start: () => {
				thrown += 1;
				throw new Error('subscriber boom');
			},
			end: () => {},
			asyncStart: () => {},
			asyncEnd: () => {},
			error: () => {},
		};
		tracingChannel(lib.OAUTH_TRACING_CHANNELS.request).subscribe(handlers);
		let outcome;
		try {
			await runSignInFlow({
				control,
				lib,
				stores: { sessions: new lib.MemoryStore(), states: new lib.MemoryStore() },
				label: 'tracethrow',
			});
			outcome = 'ok';
		} catch (err) {
			outcome = err;
		} finally {
			tracingChannel(lib.OAUTH_TRACING_CHANNELS.request).unsubscribe(handlers);
			// what Node raises apart (on the next tick) reaches the handler before it is removed
			await new Promise((r) => setTimeout(r, 0));
			proc?.off?.('uncaughtException', onUncaught);
		}
		ok(thrown > 0, 'the subscriber ran');
		if (outcome !== 'ok')
			throw new Error(`the flow failed under a throwing subscriber (uncaught seen: ${caught.length})`, {
				cause: outcome,
			});
	});
};

/** a session moved from @atproto/oauth-client-node with its ES256K DPoP key: restored, or refused as unsupported (kept). */
export const addEs256kRestoreTest = (suite) => {
	suite.test(
		'facade: an ES256K session restores, or InvalidKeyError unsupported_alg and the session is kept',
		async () => {
			const sessions = new lib.MemoryStore();
			const did = MOVED_DID;
			await sessions.set(did, movedEs256kSession(lib.fromNodeSavedSession));
			const oauth = new lib.OAuthClient({
				metadata: {
					client_id: 'https://app.example.com/oauth-client-metadata.json',
					redirect_uris: ['https://app.example.com/oauth/callback'],
					scope: ['atproto'],
				},
				keyset: [await lib.generatePrivateKey('main', 'ES256')],
				stores: { sessions, states: new lib.MemoryStore() },
				actorResolver: {
					resolve: async () => {
						throw new Error('no identity is resolved here');
					},
				},
			});
			const outcome = await oauth.restore(did).then(
				(session) => session.did,
				(err) => err,
			);
			if (outcome !== did) {
				if (!(outcome instanceof lib.InvalidKeyError) || outcome.reason !== 'unsupported_alg') {
					throw new Error('restore failed otherwise than InvalidKeyError unsupported_alg', {
						cause: outcome,
					});
				}
				ok((await sessions.get(did)) !== undefined, 'the session is kept');
			}
		},
	);
};
