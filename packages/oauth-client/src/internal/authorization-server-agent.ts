import type { AuthorizationServerMetadata } from '@atcute/oauth-discovery';
import {
	createDpopFetch,
	type DpopKey,
	type DpopNonceCache,
	type FetchFunction,
	isUseDpopNonceError,
	type ServerClocks,
} from '@atcute/oauth-dpop';
import { CLIENT_ASSERTION_TYPE, createClientAssertion, type PrivateKey } from '@atcute/oauth-keys';
import { parseHttpDate } from '@atcute-oauth/internal/http-date';
import { refusalIn } from '@atcute-oauth/internal/refusal-in';
import { retryAfterMs } from '@atcute-oauth/internal/retry-after';
import {
	ASSERTION_AGE_MARGIN_SECONDS,
	ASSERTION_BACKDATE_MS,
	ASSERTION_MAX_AGE_SECONDS,
	ERROR_RESPONSE_MAX_BYTES,
	PAR_RESPONSE_MAX_BYTES,
	REVOCATION_TIMEOUT_MS,
	TOKEN_REQUEST_TIMEOUT_FACTOR,
	TOKEN_RESPONSE_MAX_BYTES,
} from '../constants.ts';
import { InvalidResponseError, OAuthResponseError, OAuthTransientError } from '../errors.ts';
import { parseTokenResponse, type TokenResponse } from '../token-response.ts';
import { deadlineSignal } from './deadline-signal.ts';
import { issuerClocks } from './issuer-clocks.ts';
import { neverConnected } from './never-connected.ts';
import { BodyReadError, discardBody, readJsonBody } from './read-json-body.ts';
import { redactSent, secretsIn } from './redact-sent.ts';

/** what an `AuthorizationServerAgent` needs. */
export interface AuthorizationServerAgentOptions {
	/** the server's validated metadata. */
	server: AuthorizationServerMetadata;
	/** our `client_id`. */
	clientId: string;
	/** the key to sign client assertions with; absent for a public (loopback) client. */
	clientKey: PrivateKey | undefined;
	/** the session's (or the authorization attempt's) DPoP key. */
	dpopKey: DpopKey;
	/** where DPoP nonces are kept. */
	nonces: DpopNonceCache;
	fetch: FetchFunction;
	now: () => number;
	/** the clock each server's proofs and assertions are stamped with (shared by the clients on one clock). */
	clocks: ServerClocks;
	/** the time limit for each request, in milliseconds (three times it for a token request). */
	timeout: number;
	/** refuse a successful token response without a `DPoP-Nonce` header (the atproto rule). */
	requireDpopNonce: boolean;
}

/** the result of a pushed authorization request. */
export interface ParResult {
	requestUri: string;
	expiresIn: number;
}

type Endpoint = 'par' | 'token' | 'revocation';

/**
 * a successful token response that failed the atproto checks. the tokens it carried were issued
 * and have been revoked (best effort): a refresh that ends this way has spent its refresh token.
 */
export class RefusedTokenResponseError extends InvalidResponseError {}

/**
 * the OAuth error codes that say the server cannot answer for now (RFC 6749 §4.1.2.1), which a
 * gateway may send with any status: transient, as a 5xx is.
 */
const TRANSIENT_OAUTH_ERRORS = new Set(['temporarily_unavailable', 'server_error']);

/**
 * the words of an `invalid_client` that names the assertion's key as unknown: the reference
 * server's "no applicable key found in the JSON Web Key Set" (jose's), and "no key with kid …",
 * "unknown key". no clock causes it.
 */
const UNKNOWN_KEY = /\bno (applicable |matching )?key\b|\bunknown (key|kid)\b/i;

/**
 * whether `err` is a refusal a server clock unlike ours causes: a proof's `iat`, or (when we sent
 * one) an assertion's `iat` or `exp`: the reference server wants `iat` strictly in its past, and
 * at most 60 s old. not one that says the assertion's key is unknown: taken for the clock, it
 * would be sent again, and the server's clock given up on for the next key the sign-in tries.
 */
const isClockRefusal = (err: unknown, assertionSent: boolean): err is OAuthResponseError =>
	err instanceof OAuthResponseError &&
	(err.error === 'invalid_dpop_proof' ||
		(assertionSent && err.error === 'invalid_client' && !UNKNOWN_KEY.test(err.errorDescription ?? '')));

/**
 * the server's `Date` on an answer (milliseconds) when an assertion's `iat` (seconds) is one the
 * reference server refuses by that clock: after it (the assertion came from the server's future),
 * or nearly `ASSERTION_MAX_AGE_SECONDS` before it (too old on arrival; a few seconds early, as a
 * second sent for nothing costs less than a grant left live). undefined otherwise, or without a
 * readable `Date`.
 */
const dateRefusingStamp = (iat: number | undefined, headers: Headers): number | undefined => {
	if (iat === undefined) return undefined;
	// any of the three HTTP-date forms, read as GMT (Date.parse reads the asctime one in our time zone)
	const date = parseHttpDate(headers.get('date') ?? '');
	if (!Number.isFinite(date)) return undefined;
	const seconds = Math.floor(date / 1000);
	return iat > seconds || seconds - iat >= ASSERTION_MAX_AGE_SECONDS - ASSERTION_AGE_MARGIN_SECONDS
		? date
		: undefined;
};

/** the answer an OAuth error body came in, for `oauthError`. */
interface ErrorAnswer {
	endpoint: Endpoint;
	/** the endpoint's URL, as `shownUrl` gives it. */
	url: string;
	status: number;
	headers: Headers;
	/** the time now, for an HTTP-date `Retry-After`. */
	now: number;
}

/**
 * the error for an OAuth error body (RFC 6749 §5.2) answered with `status`: an
 * `OAuthResponseError`, or an `OAuthTransientError` for `temporarily_unavailable` and `server_error`
 * (with the answer's `Retry-After`, whatever its status: the server says when to come back).
 * `sent`: the secrets the request carried (see `secretsIn`), never quoted.
 */
const oauthError = (answer: ErrorAnswer, json: unknown, sent: readonly string[]): Error => {
	const { endpoint, url, status, headers, now } = answer;
	const body = json as { error?: unknown; error_description?: unknown } | undefined;
	// the server's words go into the error's message: without the secrets the request carried
	const error = typeof body?.error === 'string' ? redactSent(body.error, sent) : 'unknown_error';
	const description =
		typeof body?.error_description === 'string' ? redactSent(body.error_description, sent) : undefined;
	if (TRANSIENT_OAUTH_ERRORS.has(error)) {
		return new OAuthTransientError(
			'server_error',
			`${endpoint} endpoint at ${url} answered ${status} ${error}`,
			status,
			{
				retryAfterMs: retryAfterMs(headers, now),
			},
		);
	}
	return new OAuthResponseError(endpoint, status, error, description, url);
};

/**
 * an endpoint's URL as errors name it: its origin and path, so a message says which server failed
 * (never a query or credentials, which metadata should not carry but might).
 */
const shownUrl = (url: string): string => {
	const { origin, pathname } = new URL(url);
	return `${origin}${pathname}`;
};

/** the errors of requests that failed before they were sent (see `wasNotSent`). */
const unsent = new WeakSet<object>();

/** `err`, noted as the failure of a request that was never sent. */
const notSent = (err: unknown): unknown => {
	if (typeof err === 'object' && err !== null) unsent.add(err);
	return err;
};

/**
 * whether `err`, from an agent's request, failed it before anything was sent: its client assertion
 * or DPoP proof could not be signed (an app's own signer: a KMS or HSM that failed), or its
 * connection was never made (refused, no such host: see `neverConnected`). a code or refresh token
 * it carried is unspent. (a thrown value that is not an object is never known so.)
 */
export const wasNotSent = (err: unknown): boolean =>
	typeof err === 'object' && err !== null && unsent.has(err);

/**
 * talks to one authorization server with one DPoP key: PAR, token and revocation requests, each
 * with a fresh client assertion and DPoP proof. errors are classified where they enter: a
 * network failure, time-out, 5xx or 429 is an `OAuthTransientError` (but a request the fetch
 * refused on purpose, an error marked `transient: false` in its cause chain, is thrown as that
 * error), an OAuth error body an
 * `OAuthResponseError` (`temporarily_unavailable` and `server_error` an `OAuthTransientError`),
 * whatever its status, 200 included, anything else malformed an `InvalidResponseError` (a
 * successful token response without a `DPoP-Nonce` header included, unless the client opted out).
 * @see https://atproto.com/specs/oauth#demonstrating-proof-of-possession-dpop
 */
export class AuthorizationServerAgent {
	readonly #options: AuthorizationServerAgentOptions;
	readonly #fetch: FetchFunction;
	/**
	 * the signals of the requests handed to the transport, each attempt's own: a request whose
	 * signal is not here failed before it was sent (its DPoP proof could not be signed)
	 */
	readonly #dispatched = new WeakSet<AbortSignal>();
	/**
	 * the secrets each attempt's request carried (by its signal): the DPoP proofs the transport was
	 * handed are added to them, so that a server quoting a proof back does not put it in an error
	 */
	readonly #sentBy = new WeakMap<AbortSignal, string[]>();

	constructor(options: AuthorizationServerAgentOptions) {
		// the shared clocks learn only from the issuer's own origin (see issuerClocks)
		this.#options = { ...options, clocks: issuerClocks(options.clocks, options.server, options.now) };
		const { fetch } = options;
		// nonce retries are done here, so that each attempt carries a fresh client assertion
		this.#fetch = createDpopFetch({
			key: options.dpopKey,
			nonces: options.nonces,
			fetch: (input, init) => {
				if (init?.signal) {
					this.#dispatched.add(init.signal);
					const proof = new Headers(init.headers).get('dpop');
					if (proof !== null) this.#sentBy.get(init.signal)?.push(proof);
				}
				return fetch(input, init);
			},
			clocks: this.#options.clocks,
			retry: false,
		});
	}

	/** the server's issuer identifier. */
	get issuer(): string {
		return this.#options.server.issuer;
	}

	/**
	 * pushes the authorization request parameters; the server answers with a `request_uri`.
	 * @see https://www.rfc-editor.org/rfc/rfc9126#section-2.1
	 */
	async pushAuthorizationRequest(params: Record<string, string>, signal?: AbortSignal): Promise<ParResult> {
		const url = this.#options.server.pushed_authorization_request_endpoint;
		const { json } = await this.#request('par', url, params, PAR_RESPONSE_MAX_BYTES, signal);
		const { request_uri, expires_in } = json as { request_uri?: unknown; expires_in?: unknown };
		if (typeof request_uri !== 'string' || request_uri === '') {
			throw new InvalidResponseError('par', '"request_uri" must be a non-empty string', shownUrl(url));
		}
		if (typeof expires_in !== 'number' || !Number.isFinite(expires_in) || !(expires_in > 0)) {
			throw new InvalidResponseError('par', '"expires_in" must be a positive finite number', shownUrl(url));
		}
		return { requestUri: request_uri, expiresIn: expires_in };
	}

	/**
	 * exchanges an authorization code. it reaches the grant once: only refusals made before the code
	 * is looked at (a `use_dpop_nonce` answer, a proof or client assertion refused for its time) are
	 * retried, each once (see `#request`). no caller's signal: cut short, the request would leave
	 * the tokens the server issued out of reach of any revocation (its own time limit bounds it).
	 * `beforeSend` is called before each attempt: what it throws is thrown, with that attempt
	 * unsent (the caller's check that it is still there: see `refresh`).
	 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
	 */
	exchangeCode(
		code: string,
		verifier: string,
		redirectUri: string,
		beforeSend?: () => void,
	): Promise<TokenResponse> {
		return this.#tokenRequest(
			{
				grant_type: 'authorization_code',
				code,
				code_verifier: verifier,
				redirect_uri: redirectUri,
			},
			undefined,
			beforeSend,
		);
	}

	/**
	 * uses a refresh token. the caller must hold the session's lock: refresh tokens are single-use,
	 * and this request is not abortable once sent. `beforeSend` is called before each attempt (a
	 * retry for a nonce or the server's clock sends the token again): what it throws is thrown, with
	 * that attempt unsent (the caller's check that it still holds the lock).
	 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
	 */
	refresh(refreshToken: string, beforeSend?: () => void): Promise<TokenResponse> {
		return this.#tokenRequest(
			{ grant_type: 'refresh_token', refresh_token: refreshToken },
			refreshToken,
			beforeSend,
		);
	}

	/**
	 * a token request, its answer checked. an answer without tokens is an error (the server's
	 * OAuth error, or malformed) that revokes nothing. tokens in an answer that fails a check are revoked
	 * before the error is thrown, so a refused answer leaves no live grant behind: its refresh
	 * token, else its access token and the refresh token the request used (still valid at a
	 * server that does not rotate them), within one time limit.
	 * @throws {RefusedTokenResponseError} for such an answer
	 */
	async #tokenRequest(
		params: Record<string, string>,
		usedRefreshToken?: string,
		beforeSend?: () => void,
	): Promise<TokenResponse> {
		const { server, requireDpopNonce } = this.#options;
		const { json, headers, status, sent } = await this.#request(
			'token',
			server.token_endpoint,
			params,
			TOKEN_RESPONSE_MAX_BYTES,
			undefined,
			false,
			beforeSend,
		);
		const body = json as Record<string, unknown>;
		const url = shownUrl(server.token_endpoint);
		// only an answer that carries tokens issued anything to revoke (and spent the refresh
		// token). a 200 without them (a gateway's `{"error":"temporarily_unavailable"}`) is no
		// grant: an OAuth error in it is classified as one at any other status, and anything else
		// is a malformed answer, neither of which ends the session
		if (typeof body.access_token !== 'string' && typeof body.refresh_token !== 'string') {
			if (typeof body.error === 'string') {
				throw oauthError({ endpoint: 'token', url, status, headers, now: this.#options.now() }, body, sent);
			}
			throw new InvalidResponseError('token', `answered ${status} without tokens or an OAuth error`, url);
		}
		try {
			// atproto: "clients must reject responses missing a DPoP-Nonce header, if the request
			// included DPoP"
			if (requireDpopNonce && !headers.get('dpop-nonce')) {
				throw new InvalidResponseError('token', 'answered without a DPoP-Nonce header');
			}
			return parseTokenResponse(json);
		} catch (err) {
			const { refresh_token, access_token } = json as Record<string, unknown>;
			// revoking a refresh token ends the whole grant
			const issued =
				typeof refresh_token === 'string' && refresh_token !== ''
					? [refresh_token]
					: [access_token, usedRefreshToken].filter((token) => typeof token === 'string' && token !== '');
			const signal = AbortSignal.timeout(REVOCATION_TIMEOUT_MS);
			for (const token of issued as string[]) await this.revoke(token, signal).catch(() => {});
			// the check's message quotes what the server sent (its "sub", say), which may be one of
			// the secrets the request carried, or one of the tokens just revoked
			const message = redactSent((err as Error).message, [...sent, refresh_token, access_token]);
			throw new RefusedTokenResponseError('token', message.replace(/^token endpoint: /, ''), url);
		}
	}

	/**
	 * revokes a token (RFC 7009): true once the server accepted it, false for a server without a
	 * revocation endpoint (skipped).
	 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
	 */
	async revoke(token: string, signal?: AbortSignal): Promise<boolean> {
		const url = this.#options.server.revocation_endpoint;
		if (url === undefined) return false;
		await this.#request('revocation', url, { token }, ERROR_RESPONSE_MAX_BYTES, signal, true);
		return true;
	}

	/**
	 * the client's authentication for a request to `origin`, stamped on that server's clock (or at
	 * `at`, milliseconds, for one request); the assertion's `iat` (seconds) is noted in `stamp`.
	 */
	async #clientAuth(origin: string, stamp: { iat?: number }, at?: number): Promise<Record<string, string>> {
		const { clientId, clientKey, server, clocks } = this.#options;
		if (clientKey === undefined) {
			return { client_id: clientId };
		}
		// dated a little in the past: a server that refuses an assertion from its future must not
		// get one from a clock a moment fast (a refused revocation looks like any other)
		const now = () => {
			const time = (at ?? clocks.now(origin)) - ASSERTION_BACKDATE_MS;
			stamp.iat = Math.floor(time / 1000);
			return time;
		};
		return {
			client_id: clientId,
			client_assertion_type: CLIENT_ASSERTION_TYPE,
			client_assertion: await createClientAssertion(clientKey, { clientId, audience: server.issuer, now }),
		};
	}

	async #request(
		endpoint: Endpoint,
		url: string,
		params: Record<string, string>,
		maxBytes: number,
		signal?: AbortSignal,
		emptyOk = false,
		beforeSend?: () => void,
	): Promise<{ json: unknown; headers: Headers; status: number; sent: string[] }> {
		const { clocks, timeout } = this.#options;
		const { origin } = new URL(url);
		// what the errors say failed: the step and the server
		const where = `${endpoint} endpoint at ${shownUrl(url)}`;
		// a token request spends a code or a refresh token once sent: its answer is waited for
		// longer (within what a timer takes, 2³¹−1 ms)
		const limit =
			endpoint === 'token' ? Math.min(timeout * TOKEN_REQUEST_TIMEOUT_FACTOR, 2 ** 31 - 1) : timeout;
		// at most one retry for each cause, each with a new nonce or clock, proof and assertion
		let nonceRetried = false;
		let clockRetried = false;
		// the refusal the clock retry was made for (its numbers left out): a retry refused otherwise
		// got past it on the server's clock
		let clockRefusal: string | undefined;
		// a revocation's retry only: the assertion's time, read from the answer that hid its refusal
		let stampAt: number | undefined;
		for (;;) {
			try {
				beforeSend?.();
			} catch (err) {
				throw notSent(err);
			}
			const offset = clocks.offset(origin);
			const stamp: { iat?: number } = {};
			let auth: Record<string, string>;
			try {
				auth = await this.#clientAuth(origin, stamp, stampAt);
			} catch (err) {
				// the assertion could not be signed: thrown as the signer's own error, nothing sent
				throw notSent(err);
			}
			const body = new URLSearchParams({ ...params, ...auth });
			const sent = secretsIn(body);
			// the caller's signal, or our time limit: the caller's may live as long as the app
			const deadline = deadlineSignal(signal, limit);
			this.#sentBy.set(deadline.signal, sent);
			try {
				let response: Response;
				try {
					response = await this.#fetch(url, {
						method: 'POST',
						headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
						body,
						// an OAuth endpoint never redirects; following one could leak the assertion
						redirect: 'manual',
						signal: deadline.signal,
					});
				} catch (err) {
					if (signal?.aborted) throw signal.reason;
					const dispatched = this.#dispatched.has(deadline.signal);
					if (deadline.timedOut) {
						const timedOut = new OAuthTransientError('timeout', `${where} did not answer within ${limit} ms`);
						throw dispatched ? timedOut : notSent(timedOut);
					}
					// the transport was never called: the DPoP proof could not be signed. the signer's
					// own error, as on a PDS call: never "could not be reached", which blames the server
					// and says to try again whatever the signer's trouble
					if (!dispatched) throw notSent(err);
					// a guard's refusal (the SSRF guard's PrivateNetworkError) meets the same refusal on
					// every retry: thrown as it is, never as a network failure to try again
					const refusal = refusalIn(err);
					if (refusal !== undefined) throw refusal;
					const failure = new OAuthTransientError('network', `${where} could not be reached`, undefined, {
						cause: err,
					});
					// a connection never made sent nothing: a code it carried is unspent
					throw neverConnected(err) ? notSent(failure) : failure;
				}

				// not for an answer reached through a redirect (see #readResponse): another server's
				// use_dpop_nonce, and the retry would send the grant and a new assertion there again
				if (!nonceRetried && !response.redirected && (await isUseDpopNonceError(response))) {
					nonceRetried = true;
					await discardBody(response);
					continue;
				}
				try {
					const json = await this.#readResponse(endpoint, url, response, maxBytes, emptyOk, sent);
					// the reference server answers a revocation 200 whatever it refused (RFC 7009 §2.2):
					// an assertion dated after its answer's Date, or a minute before it, was refused for its
					// clock, unseen. sent once more, dated by that Date. the shared clocks are left alone:
					// the retry's 200 would confirm whatever the Date said (a proxy's wrong clock), refused
					// or not
					const refusedAt =
						endpoint === 'revocation' && !clockRetried
							? dateRefusingStamp(stamp.iat, response.headers)
							: undefined;
					if (refusedAt !== undefined) {
						clockRetried = true;
						stampAt = refusedAt;
						continue;
					}
					return { json, headers: response.headers, status: response.status, sent };
				} catch (err) {
					// an abort while the body streams in is the caller's, not a malformed answer
					signal?.throwIfAborted();
					// nor is a body cut off by our time limit or a dropped connection: it may pass, and
					// reporting it as malformed would end a refresh that should fall back to the token
					if (err instanceof BodyReadError) {
						// a body the app's fetch had read already: its mistake, the same on every retry
						const refusal = refusalIn(err.cause);
						if (refusal !== undefined) throw refusal;
						if (deadline.timedOut) {
							throw new OAuthTransientError(
								'timeout',
								`${where} did not finish its answer within ${limit} ms`,
							);
						}
						throw new OAuthTransientError('network', `the answer of the ${where} broke off`, undefined, {
							cause: err.cause,
						});
					}
					// refused for a stamp the server's clock may not take: once more, on the clock `adopt`
					// gives (told of every such refusal: it follows the server's clock, or goes back to ours
					// when the server refused its clock too). a refused client or proof consumed nothing
					// (RFC 6749 §3.2.1: the client is authenticated before the grant is looked at)
					if (isClockRefusal(err, this.#options.clientKey !== undefined)) {
						const refusal = `${err.error} ${err.errorDescription ?? ''}`.replace(/\d+/g, '#');
						// the retry on the server's clock was refused for something else (a key it does not
						// take): that refusal is not about the clock, and must not put the server back on
						// ours for 10 minutes, where every request to it would be refused
						if (clockRefusal !== undefined && refusal !== clockRefusal) throw err;
						if (clocks.adopt(origin, response.headers, offset) && !clockRetried) {
							clockRetried = true;
							clockRefusal = refusal;
							continue;
						}
					}
					throw err;
				}
			} finally {
				deadline.dispose();
			}
		}
	}

	async #readResponse(
		endpoint: Endpoint,
		endpointUrl: string,
		response: Response,
		maxBytes: number,
		emptyOk: boolean,
		sent: readonly string[],
	) {
		const { status } = response;
		const url = shownUrl(endpointUrl);
		// sent with `redirect: 'manual'`: an answer reached through a redirect (an app's fetch that
		// follows them anyway) is another server's, never the endpoint's verdict on a grant
		if (response.redirected) {
			await discardBody(response);
			throw new InvalidResponseError(endpoint, `answered ${status} through a redirect it never makes`, url);
		}
		if (status >= 200 && status < 300) {
			if (emptyOk) {
				await discardBody(response);
				return undefined;
			}
			const json = await readJsonBody(response, maxBytes);
			if (typeof json !== 'object' || json === null || Array.isArray(json)) {
				throw new InvalidResponseError(
					endpoint,
					`answered ${status} without a JSON object (or one over ${maxBytes} bytes)`,
					url,
				);
			}
			return json;
		}

		// 408 Request Timeout: the server gave up waiting for the request (RFC 9110 §15.5.9), a
		// passing state, as discovery and identity resolution read it
		if (status === 429 || status === 408 || status >= 500) {
			await discardBody(response);
			throw new OAuthTransientError(
				status === 429 ? 'rate_limited' : status === 408 ? 'timeout' : 'server_error',
				`${endpoint} endpoint at ${url} answered ${status}`,
				status,
				{ retryAfterMs: retryAfterMs(response.headers, this.#options.now()) },
			);
		}

		if (status >= 400) {
			const json = await readJsonBody(response, ERROR_RESPONSE_MAX_BYTES);
			throw oauthError(
				{ endpoint, url, status, headers: response.headers, now: this.#options.now() },
				json,
				sent,
			);
		}

		await discardBody(response);
		throw new InvalidResponseError(endpoint, `answered with an unexpected status ${status}`, url);
	}
}
