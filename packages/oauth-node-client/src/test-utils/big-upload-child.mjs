// uploads a file, given as a Blob (`fs.openAsBlob`, as an app sends a video), through the built
// Node transport under a DPoP fetch, as a session sends it; prints the outcome and how far the
// process's RSS rose over its level before the call (the kernel's high-water mark). run with
// --expose-gc, as a child, so that no other test's memory is counted.
import { openAsBlob } from 'node:fs';

import { createDpopFetch, generateDpopKey } from '@atcute/oauth-dpop';
import { createNodeFetch } from '@atcute/oauth-node-client';

const [url, file] = process.argv.slice(2);
const blob = await openAsBlob(file, { type: 'video/mp4' });
const fetch = createDpopFetch({
	key: await generateDpopKey(),
	fetch: createNodeFetch({ allowPrivateNetwork: true }),
});
globalThis.gc();
globalThis.gc();
const baseline = process.memoryUsage().rss;
try {
	const response = await fetch(url, { method: 'POST', headers: { authorization: 'DPoP token' }, body: blob });
	const answer = await response.text();
	const growth = process.resourceUsage().maxRSS * 1024 - baseline;
	console.log(JSON.stringify({ status: response.status, answer, growth }));
} catch (error) {
	console.log(JSON.stringify({ error: `${error.name}: ${error.message}`, cause: String(error.cause) }));
}
