import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

/** a package.json, by its path from this folder. */
const manifest = (path: string): { version: string; peerDependencies?: Record<string, string> } =>
	JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));

/** the version of `@atcute/identity-resolver` the tests run on (the devDependency). */
const tested = manifest('../node_modules/@atcute/identity-resolver/package.json').version;

describe('@atcute/identity-resolver peer range', () => {
	// a range promises its lowest version: 2.0.0 and 2.0.1 refuse a DID document served as
	// `application/did+json` (the DID spec's own media type), which the client can only report as
	// an outage (`unavailable`): such an account never signs in. the tests run on the lowest allowed
	for (const folder of ['oauth-client', 'oauth-node-client']) {
		it(`${folder}: its lowest allowed @atcute/identity-resolver is the one the tests run on`, () => {
			const range = manifest(`../../${folder}/package.json`).peerDependencies?.['@atcute/identity-resolver'];
			expect(range).toBe(`^${tested}`);
		});
	}
});
