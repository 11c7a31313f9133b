// the suite's side of the test server's control channel: the test server runs in the Node
// process that runs the matrix, and the runtime under test drives it over loopback HTTP.

/** a client for the control server at `baseUrl` (see `bin/control-server.mjs`). */
export const createControl = (baseUrl) => {
	const call = async (operation, args = {}) => {
		const response = await fetch(`${baseUrl}/${operation}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(args),
		});
		const body = await response.json();
		if (!response.ok) throw new Error(`control ${operation}: ${body.error}`);
		return body.result;
	};
	return {
		/** the test server's origins: `{ plcUrl, pdsUrl, issuer }`. */
		urls: () => call('urls'),
		/** a new account: `{ did, handle }`. */
		createAccount: (handle) => call('createAccount', { handle }),
		/** registers the client metadata document (with inline `jwks`). */
		registerClient: (metadata) => call('registerClient', { metadata }),
		/** plays the browser: returns the callback's query parameters. */
		authorize: async (url, did) => new URLSearchParams(await call('authorize', { url: String(url), did })),
		/** makes the server treat the account's access tokens as expired. */
		expireAccessTokens: (did) => call('expireAccessTokens', { did }),
		rotateNonce: (which) => call('rotateNonce', { which }),
		revokeAllTokensFor: (did) => call('revokeAllTokensFor', { did }),
		setBehaviour: (patch) => call('setBehaviour', { patch }),
		resetBehaviour: () => call('resetBehaviour'),
		/** counters for one account: `{ refreshes, resource, activeGrants, grants }`. */
		statsFor: (did) => call('statsFor', { did }),
		/** every request the server refused since the lane started, as readable lines. */
		rejections: () => call('rejections'),
	};
};
