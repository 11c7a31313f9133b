// posts once through createNodeFetch from the built package (or, with "global", the global fetch),
// with a short inactivity timeout, and prints the outcome as JSON. the test freezes this process
// (SIGSTOP) while the request waits for its answer, and thaws it once the answer has arrived.
import { createNodeFetch } from '@atcute/oauth-node-client';

const [url, which] = process.argv.slice(2);
const fetch =
	which === 'global'
		? globalThis.fetch
		: createNodeFetch({ allowPrivateNetwork: true, inactivityTimeout: 1_000 });
try {
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: 'grant_type=refresh_token&refresh_token=old',
	});
	console.log(JSON.stringify({ status: response.status, body: await response.text() }));
} catch (error) {
	console.log(JSON.stringify({ error: `${error.name}: ${error.message}`, cause: String(error.cause) }));
}
