// fetches one URL with createNodeFetch (from the built package) and with Node's fetch, and prints
// both outcomes as JSON. run as a child so that its environment (NODE_EXTRA_CA_CERTS) is its own.
import { createNodeFetch } from '@atcute/oauth-node-client';

const { url, options } = JSON.parse(process.argv[2]);
const outcome = async (fetch) => {
	try {
		const response = await fetch(url);
		return { status: response.status, body: await response.text() };
	} catch (error) {
		return { error: error.name, code: error.code, cause: error.cause?.code };
	}
};
console.log(
	JSON.stringify({
		transport: await outcome(createNodeFetch(options)),
		fetch: await outcome(globalThis.fetch),
	}),
);
