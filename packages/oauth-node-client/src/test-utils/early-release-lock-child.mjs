// an app on the built package whose requestLock lets go of the name before the function it was
// given has finished (it calls fn() and returns at once), and whose session store then fails (the
// database went down). run by src/oauth-client.early-release-lock.test.ts: the call fails with the
// documented TypeError, and the function's own failure, which comes later and which the lock
// never looks at, must not end the process as an unhandled rejection. prints the outcome, then
// stays up a moment longer than the store's failure takes.
import { generatePrivateKey, MemoryStore, OAuthClient } from '@atcute/oauth-node-client';

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const sessions = {
	get: async () => {
		// after the lock has let go: what the client's function does then is no one's to await
		await pause(20);
		throw new Error('the session database is down');
	},
	set: async () => {},
	delete: async () => {},
	clear: async () => {},
};

const client = new OAuthClient({
	metadata: {
		client_id: 'https://app.example.com/oauth-client-metadata.json',
		redirect_uris: ['https://app.example.com/oauth/callback'],
		scope: ['atproto'],
	},
	keyset: [await generatePrivateKey('k1')],
	stores: { sessions, states: new MemoryStore() },
	actorResolver: { resolve: async () => ({}) },
	requestLock: async (_name, fn) => {
		fn();
	},
});

const outcome = await client.revoke('did:plc:ewvi7nxzyoun6zhxrhs64oiz').then(
	() => 'resolved',
	(err) => err.name,
);
await pause(200);
process.stdout.write(`${JSON.stringify({ outcome })}\n`);
