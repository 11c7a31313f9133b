// fetches one URL with createNodeFetch from the built package and prints the outcome as JSON.
// run as a child so that its environment (NODE_EXTRA_CA_CERTS) is its own.
import { createNodeFetch } from '@atcute/oauth-node-client';

const { url, options } = JSON.parse(process.argv[2]);
const fetch = createNodeFetch(options);
try {
	const response = await fetch(url);
	console.log(JSON.stringify({ status: response.status, body: await response.text() }));
} catch (error) {
	console.log(JSON.stringify({ error: error.name, code: error.code, cause: error.cause?.code }));
}
