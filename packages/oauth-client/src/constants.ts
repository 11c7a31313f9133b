/** how long an authorization may take, sign-in and consent included: the atproto spec's bound. */
export const STATE_TTL_MS: number = 10 * 60 * 1000;

/**
 * refresh an access token this long before it expires, so a request never leaves with a token
 * that expires on the way. at most: a token that lives less than 4 minutes gets
 * `REFRESH_MARGIN_FRACTION` of its lifetime instead.
 */
export const REFRESH_MARGIN_MS: number = 60 * 1000;

/**
 * the share of a token's lifetime kept as its refresh margin when that is less than
 * `REFRESH_MARGIN_MS`: a token that lives 60 s or less would otherwise be stale on arrival, and
 * every call would spend a refresh. a 30 s token is used for 22.5 s.
 */
export const REFRESH_MARGIN_FRACTION: number = 1 / 4;

/**
 * how long after a refresh whose tokens the PDS refused on arrival (the retry right after it), a
 * refusal of those tokens makes no other refresh: a PDS that refuses every token (its clock far
 * ahead, a misconfiguration) would otherwise cost the authorization server a refresh, and the
 * account a spent refresh token, per request.
 */
export const REFUSED_RETRY_MS: number = 30 * 1000;

/** a PAR response is a `request_uri` and `expires_in`: well under 1 KiB. */
export const PAR_RESPONSE_MAX_BYTES: number = 8 * 1024;

/**
 * a token response carries two tokens and the granted scope; the scope lists every permission a
 * permission set expands to, which can run to a few KiB.
 */
export const TOKEN_RESPONSE_MAX_BYTES: number = 64 * 1024;

/** OAuth error bodies are a code and a sentence. */
export const ERROR_RESPONSE_MAX_BYTES: number = 16 * 1024;

/**
 * the time limit for a request to the authorization server (PAR; a token request gets
 * `TOKEN_REQUEST_TIMEOUT_FACTOR` times it, a revocation at most `REVOCATION_TIMEOUT_MS`).
 */
export const AS_REQUEST_TIMEOUT_MS: number = 10 * 1000;

/**
 * how many times the request time limit a token request (code or refresh grant) is given. once
 * sent, it spends the code or refresh token at a server that got it: given up on, a late answer's
 * tokens are lost, and the next refresh presents a spent token, a replay for which the reference
 * server ends the grant (measured against it: a PDS 12 s late on one refresh ended the session).
 */
export const TOKEN_REQUEST_TIMEOUT_FACTOR: number = 3;

/**
 * how far before our clock a client assertion is dated (`iat`, and `exp` with it), in
 * milliseconds. the reference server takes an `iat` only in its past, up to 60 s old, with no
 * leeway: dated on a clock a moment fast (floored to the second), the assertion is refused. a PAR
 * or token request is sent again on the server's clock then, but a revocation is answered 200
 * whatever the server refused, so a sign-out would leave the grant live unseen. 5 s back takes a
 * clock up to 5 s fast, and one up to 55 s slow; a revocation refused beyond either is seen by its
 * answer's `Date` and sent once more (`ASSERTION_MAX_AGE_SECONDS`).
 */
export const ASSERTION_BACKDATE_MS: number = 5 * 1000;

/**
 * how old a client assertion may be when the reference server reads it (`CLIENT_ASSERTION_MAX_AGE`),
 * in seconds: a revocation whose answer's `Date` is this much after the assertion's `iat` (less
 * `ASSERTION_AGE_MARGIN_SECONDS`) is sent again, dated by that `Date`.
 */
export const ASSERTION_MAX_AGE_SECONDS: number = 60;

/** how many seconds short of `ASSERTION_MAX_AGE_SECONDS` an assertion counts as refused for its age. */
export const ASSERTION_AGE_MARGIN_SECONDS: number = 5;

/** revocation is best effort: sign-out does not wait long for it. */
export const REVOCATION_TIMEOUT_MS: number = 5 * 1000;

/**
 * the pauses before each further attempt to store a session whose tokens were just issued, after
 * the store failed with a transient error: the code or refresh token that brought them is spent,
 * so a blip of the store (a reconnect, a busy database) must not cost the account its session.
 * short, since the account's lock is held meanwhile.
 */
export const STORE_RETRY_DELAYS_MS: readonly number[] = [250, 1000];

/**
 * how long a PDS's DPoP nonce is taken as current after an answer carried it, before a request
 * whose body cannot be sent again (a stream: not retried on `use_dpop_nonce`) is sent. the
 * reference server rotates its nonce every 60 s and accepts the previous, current and next one,
 * so a nonce seen less than 60 s ago is still good; an older one may not be, and a body-less
 * request is sent first to learn the current one.
 */
export const NONCE_FRESH_MS: number = 60 * 1000;

/**
 * how long a PDS that answered that body-less request without any `DPoP-Nonce` is taken not to
 * use nonces: streams go there without one, rather than each costing an extra request.
 */
export const NO_NONCE_MEMORY_MS: number = 10 * 60 * 1000;
