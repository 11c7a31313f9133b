// the app-process side of `startAppProcess`: what every cross-process fixture does once it has
// built its OAuthClient on the stores and lock under test. plain JavaScript, so a fixture run by
// plain node (on the built packages) can import it; the fixture passes in what this needs
// (`Client` from @atcute/client) so this package depends on no implementation.
//
// protocol: "ready" once `ready()` has passed, then wait for "go", then by `config.mode`:
// - "calls" (default): `config.calls` concurrent restore + getSession calls, then "done";
// - "hold-lock": takes `config.lockName` and never lets go ("holding"; the test kills it);
// - "refresh": a forced refresh, reporting "error" if it fails (the test kills it mid-way);
// - "take": takes every key of `config.keys` from `states` at once, then "taken" with the keys
//   it got (each state must go to one process only).

const send = (message) => new Promise((resolve) => process.send(message, resolve));
const failureOf = (err) => ({ name: err?.name ?? 'Error', message: String(err?.message ?? err) });

/**
 * what every fixture's OAuthClient is given besides its stores and lock: the test's client
 * metadata and key, resolvers on the test network, and http (all of it on loopback). the fixture
 * passes in `importJwkKey` and the resolver classes, as it passes `Client` below.
 */
export const appClientOptions = async (
	config,
	{ importJwkKey, LocalActorResolver, XrpcHandleResolver, PlcDidDocumentResolver },
) => ({
	metadata: config.metadata,
	keyset: [await importJwkKey(config.clientJwk)],
	actorResolver: new LocalActorResolver({
		handleResolver: new XrpcHandleResolver({ serviceUrl: config.pdsUrl }),
		didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: config.plcUrl }),
	}),
	allowHttp: true,
});

/**
 * drives one app process. `client` is its OAuthClient, `lock` the lock it was given, `states` the
 * state store it was given, `Client` the XRPC client class, `ready` what must hold before it says
 * ready, `close` what to release before it exits after its calls.
 */
export const runAppChild = async ({ config, client, lock, states, Client, ready, close }) => {
	/** one app request: restore the session, then call the PDS with it. */
	const call = async () => {
		const session = await client.restore(config.did);
		const response = await new Client({ handler: session }).get('com.atproto.server.getSession', {});
		if (!response.ok) throw new Error(`getSession answered ${response.status} ${response.data?.error}`);
		if (response.data.did !== config.did) throw new Error(`getSession answered for ${response.data.did}`);
	};

	await ready?.();
	const go = new Promise((resolve) => process.once('message', resolve));
	await send({ type: 'ready' });
	await go;

	const mode = config.mode ?? 'calls';
	if (mode === 'calls') {
		// every call starts at once, as concurrent requests to one app process would
		const results = await Promise.allSettled(Array.from({ length: config.calls }, call));
		await send({
			type: 'done',
			ok: results.filter((result) => result.status === 'fulfilled').length,
			failures: results
				.filter((result) => result.status === 'rejected')
				.map((result) => failureOf(result.reason)),
		});
		await close?.();
		process.exit(0);
	} else if (mode === 'hold-lock') {
		// takes the lock and never lets go: the test kills this process while it holds it
		await lock(config.lockName, async () => {
			await send({ type: 'holding' });
			await new Promise(() => {});
		});
	} else if (mode === 'refresh') {
		// a refresh the test kills before it reaches the token endpoint
		await client.restore(config.did, { refresh: true }).catch(async (err) => {
			await send({ type: 'error', error: failureOf(err) });
		});
	} else if (mode === 'take') {
		// every take starts at once, as concurrent callbacks would
		const taken = [];
		await Promise.all(
			config.keys.map(async (key) => {
				if ((await states.take(key)) != null) taken.push(key);
			}),
		);
		await send({ type: 'taken', keys: taken });
		await close?.();
		process.exit(0);
	} else {
		throw new Error(`unknown mode ${JSON.stringify(mode)}`);
	}
};
