/** which of the three servers answered. */
export type ServerRole = 'plc' | 'pds' | 'as';

/**
 * what became of a request's DPoP proof: `valid` passed every check, `missing` had none, `invalid`
 * failed a check, `nonce` was answered with `use_dpop_nonce`; `undefined` for endpoints that take
 * no proof (PLC, metadata, the authorization page).
 */
export type ProofOutcome = 'valid' | 'missing' | 'invalid' | 'nonce';

/** one request as the server saw it. */
export interface RequestRecord {
	server: ServerRole;
	method: string;
	/** the path without the query. */
	path: string;
	/** the status answered; 0 when the socket was destroyed without an answer. */
	status: number;
	/** what became of the DPoP proof, on endpoints that take one. */
	proof: ProofOutcome | undefined;
	/** the thumbprint of the proof key, when the proof verified. */
	jkt: string | undefined;
	/** the client id, on authorization server endpoints that authenticate a client. */
	clientId: string | undefined;
	/** the OAuth or XRPC error code, when the answer was an error. */
	error: string | undefined;
	/** the request body, for POSTs to the PDS (to check body replay). */
	body: string | undefined;
	/** when the request arrived, on the server clock (ms). */
	at: number;
}

/** a request the server refused because the client got something wrong. */
export interface Rejection {
	server: ServerRole;
	method: string;
	path: string;
	status: number;
	/** the error code answered. */
	error: string;
	/** why, in words: the same text as the answered description. */
	reason: string;
	/** when, on the server clock (ms). */
	at: number;
}

/** the parameters of an accepted pushed authorization request. */
export interface ParRecord {
	clientId: string;
	/** every body parameter except the client assertion. */
	params: Record<string, string>;
	/** the `request_uri` handed out. */
	requestUri: string;
	/** the thumbprint of the DPoP key the request was bound to. */
	jkt: string;
}

/** counters and logs the tests assert on. `server.reset()` clears them in place. */
export interface TestServerStats {
	/** accepted pushed authorization requests. */
	par: number;
	/** authorization redirects carrying a code. */
	authorize: number;
	/** authorization redirects carrying `access_denied`. */
	denied: number;
	/** successful token responses, by grant type. */
	token: { authorization_code: number; refresh_token: number };
	/** refresh requests that reached the grant (past the proof and client authentication), failed or not. */
	refreshAttempts: number;
	/** successful refreshes by DID. */
	refreshByDid: Map<string, number>;
	/** revocation requests answered 200 (whether or not the token was known). */
	revoke: number;
	/** tokens actually revoked (sessions ended) through `/oauth/revoke`. */
	revokedSessions: number;
	/** authenticated PDS calls answered 200. */
	resource: number;
	/** `use_dpop_nonce` challenges sent; each should be followed by exactly one retry. */
	nonceRetries: { as: number; pds: number };
	/** DPoP proofs that passed every check. */
	verifiedProofs: number;
	/** client assertions that passed every check. */
	verifiedAssertions: number;
	/** every refused request with the reason; empty when the client did everything right. */
	rejections: Rejection[];
	/** every request, in order. */
	requests: RequestRecord[];
	/** every accepted pushed authorization request, in order. */
	parRequests: ParRecord[];
}

/** new, zeroed stats. */
export const createStats = (): TestServerStats => {
	return {
		par: 0,
		authorize: 0,
		denied: 0,
		token: { authorization_code: 0, refresh_token: 0 },
		refreshAttempts: 0,
		refreshByDid: new Map(),
		revoke: 0,
		revokedSessions: 0,
		resource: 0,
		nonceRetries: { as: 0, pds: 0 },
		verifiedProofs: 0,
		verifiedAssertions: 0,
		rejections: [],
		requests: [],
		parRequests: [],
	};
};

/** zeroes stats in place, so references held by tests stay live. */
export const clearStats = (stats: TestServerStats): void => {
	stats.par = 0;
	stats.authorize = 0;
	stats.denied = 0;
	stats.token.authorization_code = 0;
	stats.token.refresh_token = 0;
	stats.refreshAttempts = 0;
	stats.refreshByDid.clear();
	stats.revoke = 0;
	stats.revokedSessions = 0;
	stats.resource = 0;
	stats.nonceRetries.as = 0;
	stats.nonceRetries.pds = 0;
	stats.verifiedProofs = 0;
	stats.verifiedAssertions = 0;
	stats.rejections.length = 0;
	stats.requests.length = 0;
	stats.parRequests.length = 0;
};
