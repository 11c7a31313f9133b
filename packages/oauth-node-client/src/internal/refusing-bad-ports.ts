import type { FetchFunction } from '@atcute/oauth-dpop';

import { badPortRefusal, isBadPort } from './bad-port.ts';

/**
 * `fetch` with a request to a port the Fetch standard blocks refused before it is sent, with the
 * error the Node transport gives (`badPortRefusal`, `transient: false`). runtimes' own fetches
 * differ: Deno's refuses with a TypeError the client reads as a network failure (transient, so an
 * app retrying on `transient` would retry for ever), Bun's connects. only the URL given is
 * checked: the client sends every request with `redirect: 'manual'`, so each hop comes through
 * here. a URL `fetch` cannot parse is left to it, to fail as it does.
 */
export const refusingBadPorts =
	(fetch: FetchFunction): FetchFunction =>
	(input, init) => {
		const url = urlOf(input);
		if (url !== undefined && isBadPort(url)) return Promise.reject(badPortRefusal(url));
		return fetch(input, init);
	};

const urlOf = (input: string | URL | Request): URL | undefined => {
	if (input instanceof URL) return input;
	try {
		// fetch reads anything else as its string (a URL from another realm, say)
		return new URL(input instanceof Request ? input.url : String(input));
	} catch {
		return undefined;
	}
};
