import type { Did } from '@atcute/lexicons';
import {
	createDpopFetch,
	type DpopKey,
	type DpopNonceCache,
	type FetchFunction,
	isReplayableBody,
	parseWwwAuthenticate,
	type ServerClocks,
} from '@atcute/oauth-dpop';
import type { Sha256Function } from '@atcute/oauth-keys';
import { type PermissionRequest, ScopeSet } from '@atcute/oauth-scope';
import { allowManyAbortListeners } from '@atcute-oauth/internal/allow-many-abort-listeners';
import { answeredElsewhere } from '@atcute-oauth/internal/answered-elsewhere';
import { readNonceWithin } from '@atcute-oauth/internal/read-nonce-within';
import { settleBefore } from '@atcute-oauth/internal/settle-before';

import { AuthMethodUnsatisfiableError, SessionNotFoundError, TokenRefreshError } from './errors.ts';
import { bufferedResponse } from './internal/buffered-response.ts';
import type { MonotonicLifetimes } from './internal/monotonic-lifetimes.ts';
import type { PdsNonceSightings } from './internal/pds-nonce-sightings.ts';
import { discardBody } from './internal/read-json-body.ts';
import type { RefreshDeferrals } from './internal/refresh-deferrals.ts';
import type { RefreshOutcome } from './internal/session-refresher.ts';
import { tracedText } from './internal/traced-text.ts';
import type { StoredSession, TokenSet } from './stored-types.ts';
import { isStale } from './token-set.ts';
import type { OAuthTracer, RequestTraceContext } from './tracer.ts';

/** what a session needs from its client. */
export interface SessionHost {
	/**
	 * refreshes the session under its lock, or adopts tokens another holder stored meanwhile
	 * (`refreshed` says which). `staleAccessToken` is the token the caller found expired or
	 * rejected (`refused`: the PDS refused it); absent forces a refresh. `withheld`: no refresh
	 * was made, since the PDS had already refused that token on its arrival, moments ago.
	 */
	refresh(did: Did, staleAccessToken: string | undefined, refused?: boolean): Promise<RefreshOutcome>;
	/** notes that the PDS refused `accessToken` on its arrival, right after its refresh (best effort). */
	markRefusedOnArrival(did: Did, accessToken: string): Promise<void>;
	/**
	 * revokes the session at the server (best effort) and deletes it, as a sign-out; `held` is
	 * the session object's own, whose tokens are revoked too when they are not the stored ones.
	 */
	signOut(did: Did, held: StoredSession): Promise<void>;
	/**
	 * the imported DPoP key of a stored session of `did` (cached by the client); an
	 * `UnreadableSessionError` when it cannot be imported.
	 */
	sessionKey(did: Did, session: StoredSession): Promise<DpopKey>;
	readonly nonces: DpopNonceCache;
	readonly fetch: FetchFunction;
	readonly now: () => number;
	/** the clock each server's proofs are stamped with (its own once it refused ours). */
	readonly clocks: ServerClocks;
	/** the accounts whose refresh before expiry failed transiently moments ago (not tried again yet). */
	readonly deferrals: RefreshDeferrals;
	/** the tokens this client obtained, timed on a clock that never steps (default `now` only). */
	readonly lifetimes: MonotonicLifetimes | undefined;
	/** when each PDS last announced a DPoP nonce (shared by the client's sessions, in memory). */
	readonly nonceSightings: PdsNonceSightings;
	/** how the DPoP `ath` is hashed; `undefined` for WebCrypto's. */
	readonly sha256: Sha256Function | undefined;
	/** the instrumentation hook, if any. */
	readonly tracer: OAuthTracer | undefined;
}

/** what `getTokenInfo()` tells about a session's tokens (no token values). */
export interface TokenInfo {
	/** the issuer (authorization server). */
	iss: string;
	/** the account. */
	sub: Did;
	/** the PDS the tokens are for. */
	aud: string;
	/** the granted scope. */
	scope: string;
	/** when the access token expires, if the server said. */
	expiresAt: Date | undefined;
}

/** the tokens a session holds after a refresh, and whether it refreshed, adopted or held back. */
interface RefreshResult {
	tokenSet: TokenSet;
	refreshed: boolean;
	withheld: boolean;
}

/** what is asked of the PDS to learn its current DPoP nonce: any authenticated call without a body. */
const NONCE_PROBE_PATH = '/xrpc/com.atproto.server.getSession';

/** how much of a request's path a trace carries: the app's own, but it can be any length. */
const MAX_TRACED_PATHNAME = 512;

/**
 * whether the resource server the token went to (`sentTo`) refused the access token itself (RFC
 * 6750 §3.1). a refusal from another origin, reached by a redirect (a blob on a CDN), is not: the
 * token was never sent there, and refreshing for it would spend a refresh token for nothing, then
 * mark the new tokens refused on arrival, holding back the PDS's own refusals for a while.
 */
const isInvalidToken = (response: Response, sentTo: URL): boolean => {
	if (response.status !== 401) return false;
	// only after a redirect: an app's fetch may reach the PDS at another address (a service mesh,
	// an internal name), whose answers name that address, and are the PDS's all the same
	if (answeredElsewhere(response, sentTo.origin)) return false;
	const header = response.headers.get('www-authenticate');
	return (
		header !== null &&
		parseWwwAuthenticate(header).some(
			(challenge) =>
				(challenge.scheme === 'dpop' || challenge.scheme === 'bearer') &&
				challenge.params.error === 'invalid_token',
		)
	);
};

const setHeader = (headers: Record<string, string> | Headers, name: string, value: string): void => {
	if (headers instanceof Headers) headers.set(name, value);
	else headers[name] = value;
};

/**
 * a signed-in account. pass it as the `handler` of `@atcute/client`'s `Client`: every request
 * carries the DPoP-bound access token and a proof, an expiring token is refreshed first, and a
 * token the PDS refuses as `invalid_token` is refreshed once and the request retried.
 */
export class OAuthSession {
	readonly #host: SessionHost;
	/** signs with the DPoP key of `#session` (made again when a refresh brings another). */
	#fetch: FetchFunction;
	/** the stored session this object's tokens came from (revoked by its `signOut()`). */
	#session: StoredSession;
	/** set by `signOut()`: the object sends nothing more. */
	#signedOut = false;
	/**
	 * set when a refresh of this object's ended the session (`TokenRefreshError`,
	 * `AuthMethodUnsatisfiableError`) or found it ended (`SessionNotFoundError`): its tokens are
	 * dead, and are not sent again. its next call reads the store first: a session stored since
	 * (the account signed in again) is taken up.
	 */
	#ended = false;
	/**
	 * how many times a refresh of this object found its session ended: a refresh that waited on a
	 * key import across one took up a session read before it, which is stale.
	 */
	#endings = 0;
	#scopes: ScopeSet | undefined;
	#scopesOf: string | undefined;
	#audOrigin: string | undefined;
	#audOriginOf: string | undefined;

	/** the account's DID. */
	readonly did: Did;

	/**
	 * not for apps: sessions come from `OAuthClient` (`callback`, `restore`), which holds the host.
	 * @param host the client's internals the session refreshes and signs through
	 * @param did the account's DID
	 * @param session the stored session (tokens, client auth method, DPoP key)
	 * @param dpopKey the DPoP key the tokens are bound to
	 */
	constructor(host: SessionHost, did: Did, session: StoredSession, dpopKey: DpopKey) {
		this.#host = host;
		this.did = did;
		this.#session = session;
		this.#fetch = this.#dpopFetch(dpopKey);
	}

	#dpopFetch(key: DpopKey): FetchFunction {
		const { nonces, clocks, sha256, fetch: send } = this.#host;
		// every request, the DPoP layer's retry for a nonce included: none goes out once signed out
		// (a call under way then, its nonce probe, refresh or retry still to come, stops there)
		const fetch: FetchFunction = (input, init) => {
			if (this.#signedOut) return Promise.reject(new SessionNotFoundError(this.did));
			return send(input, init);
		};
		return createDpopFetch({ key, nonces, fetch, clocks, sha256 });
	}

	/** the PDS URL this session talks to. */
	get serviceUrl(): string {
		return this.#session.tokenSet.aud;
	}

	/** the granted scope, as the server returned it. */
	get scope(): string {
		return this.#session.tokenSet.scope;
	}

	/**
	 * whether the granted scope allows `request` (a repo write, an RPC call, a blob upload, ...),
	 * checked on the parsed, normalised grant rather than by comparing strings.
	 */
	allows(request: PermissionRequest): boolean {
		const { scope } = this.#session.tokenSet;
		// parsed once per grant: a refresh may change it
		if (this.#scopes === undefined || this.#scopesOf !== scope) {
			this.#scopes = new ScopeSet(scope);
			this.#scopesOf = scope;
		}
		return this.#scopes.allows(request);
	}

	/** the origin of the PDS URL `aud`, parsed once per PDS URL (a refresh may move it). */
	#originOf(aud: string): string {
		if (this.#audOriginOf !== aud) {
			this.#audOrigin = new URL(aud).origin;
			this.#audOriginOf = aud;
		}
		return this.#audOrigin!;
	}

	/** what the session's tokens are, without the tokens themselves. */
	getTokenInfo(): TokenInfo {
		const { iss, sub, aud, scope, expires_at } = this.#session.tokenSet;
		return { iss, sub, aud, scope, expiresAt: expires_at === undefined ? undefined : new Date(expires_at) };
	}

	/**
	 * sends a request to the PDS: `pathname` (with query) is resolved against the PDS URL, and a
	 * URL on another origin is refused with a `TypeError` (the token is the PDS's alone). HTTP
	 * errors are returned, not thrown; a failed refresh throws its typed error.
	 *
	 * a body that cannot be sent twice (a `ReadableStream`) is not retried when the PDS asks for a
	 * new DPoP nonce, so when this client has not seen the PDS's nonce in the last 60 s (a new
	 * process, or a few idle minutes: the reference PDS rotates it every 60 s), or the nonce cache
	 * no longer holds it, a body-less `GET /xrpc/com.atproto.server.getSession` is sent first to
	 * learn it (not traced as a request of its own; `init.signal` applies to it, and what it throws
	 * is thrown). a PDS that answers it without any `DPoP-Nonce` is taken not to use nonces for 10
	 * minutes: no probe meanwhile.
	 */
	handle(pathname: string, init: RequestInit = {}): Promise<Response> {
		const { tracer } = this.#host;
		if (tracer === undefined || tracer.isTracing?.('request') === false) return this.#send(pathname, init);
		let url: URL;
		try {
			url = new URL(pathname, this.#session.tokenSet.aud);
		} catch {
			// no request to trace: rejected as #send rejects it, never thrown where the caller
			// expects a promise (a subscriber must not change how errors arrive)
			return this.#send(pathname, init);
		}
		let method: string;
		try {
			method = String(init?.method ?? 'GET').toUpperCase();
		} catch {
			// a method that is no text (its toString throws): rejected as #send rejects it, as above
			return this.#send(pathname, init);
		}
		// the query is left out: it may carry the app's data
		const context: RequestTraceContext = {
			sub: this.did,
			method,
			origin: url.origin,
			pathname: tracedText(url.pathname, MAX_TRACED_PATHNAME),
		};
		return tracer.trace('request', context, async () => {
			// the PDS it was sent to: a refresh on the way may have moved the account to another one
			// (not the response's URL, which names where a redirect the fetch followed ended; nor the
			// session's PDS once answered, which another call's refresh may have moved since)
			const sent: { origin?: string } = {};
			let response: Response;
			try {
				response = await this.#send(pathname, init, sent);
			} finally {
				if (sent.origin !== undefined) context.origin = sent.origin;
			}
			context.status = response.status;
			const offset = this.#host.clocks.offset(context.origin);
			if (offset !== undefined) context.serverClockOffsetMs = offset;
			return response;
		});
	}

	async #send(pathname: string, init: RequestInit, sent?: { origin?: string }): Promise<Response> {
		// its tokens are the user's no more, whether or not the server confirmed their revocation
		if (this.#signedOut) throw new SessionNotFoundError(this.did);
		// an app-wide signal on many calls at once holds a listener for each while they run (here
		// first: the store read below listens to it too)
		if (init.signal) allowManyAbortListeners(init.signal);
		// a dead token would only be refused: the stored session (if any) is read instead
		if (this.#ended) await this.#refreshFor(this.#session.tokenSet.access_token, init.signal);
		let tokenSet = this.#session.tokenSet;
		// checked before anything is sent, a refresh included
		let url = this.#pdsUrl(pathname, tokenSet.aud);
		const { signal } = init;
		// a body that cannot be sent again (a stream) is not retried on `use_dpop_nonce`: a PDS
		// nonce never seen (a new process) or seen long ago (rotated since) is learnt first
		if (
			init.body != null &&
			!isReplayableBody(init.body) &&
			(await this.#needsNonceProbe(url.origin, signal))
		) {
			await this.#probeNonceOnce(url.origin, tokenSet.access_token, signal);
			// the probe refreshed a stale token: these are the tokens (and the PDS) now held
			tokenSet = this.#session.tokenSet;
			url = this.#pdsUrl(pathname, tokenSet.aud);
		}
		if (isStale(tokenSet, this.#host.now())) {
			const stale = tokenSet;
			const refreshed = await this.#host.deferrals.beforeExpiry(
				this.did,
				stale,
				() => this.#refreshFor(stale.access_token, signal),
				signal,
			);
			if (refreshed !== undefined) {
				tokenSet = refreshed.tokenSet;
				url = this.#pdsUrl(pathname, tokenSet.aud);
			}
		}

		// a plain record when the caller gave no headers (every GET through @atcute/client): the
		// layers below read and copy it for less than a Headers
		const headers: Record<string, string> | Headers =
			init.headers === undefined ? {} : new Headers(init.headers);
		setHeader(headers, 'authorization', `DPoP ${tokenSet.access_token}`);
		if (sent !== undefined) sent.origin = url.origin;
		let response = await this.#fetchNoted(url, { ...init, headers });

		// the token was refused before its time (revoked, or rotated by another process): refresh
		// (or adopt what another holder stored) and, when the body can be sent again, retry. a
		// token adopted can have been refused as well: a second round then refreshes for real
		for (let round = 1; isInvalidToken(response, url); round++) {
			// a token the PDS refused is judged by the wall clock alone from now on: one its
			// never-stepping clock took for unexpired (after a suspend, that clock stood still while
			// time passed) is not sent again while its refresh fails
			this.#host.lifetimes?.forget(tokenSet);
			// read now: a refused call must not hold its connection while it waits for a refresh that
			// may need the same server (see `bufferedResponse`)
			response = await bufferedResponse(response);
			let outcome: RefreshResult;
			try {
				outcome = await this.#refreshFor(tokenSet.access_token, signal, true);
			} catch (err) {
				// the 401 is not handed back: its body is let go, or it pins the connection
				await discardBody(response);
				throw err;
			}
			const { tokenSet: next, refreshed, withheld } = outcome;
			// no refresh was made (the PDS refuses every token): its refusal is the answer
			if (withheld || !isReplayableBody(init.body)) return response;
			await discardBody(response);
			tokenSet = next;
			url = this.#pdsUrl(pathname, tokenSet.aud);
			setHeader(headers, 'authorization', `DPoP ${tokenSet.access_token}`);
			if (sent !== undefined) sent.origin = url.origin;
			response = await this.#fetchNoted(url, { ...init, headers });
			// the tokens a refresh brought just now are refused too: the PDS may refuse every token.
			// noted in the store, so that its next refusals (in any process) hold refreshes back
			if (refreshed && isInvalidToken(response, url)) {
				// it waits for the lock a refresh may hold, needing the same server
				response = await bufferedResponse(response);
				// shared by every caller refused the same token; a caller who gives up meanwhile
				// does not wait for the lock it takes
				const mark = this.#host.markRefusedOnArrival(this.did, tokenSet.access_token);
				try {
					await (signal ? settleBefore(mark, signal) : mark);
				} catch (err) {
					await discardBody(response);
					throw err;
				}
			}
			if (refreshed || round === 2) break;
		}
		return response;
	}

	/** whether a stream to `origin` needs a probe first: see `PdsNonceSightings.needsProbe`. */
	async #needsNonceProbe(origin: string, signal: AbortSignal | null | undefined): Promise<boolean> {
		let cached = false;
		try {
			const read = this.#host.nonces.get(origin);
			// an async cache that stalls holds neither the call (nor its body) past NONCE_READ_MS, nor
			// a listener on the caller's signal past that: taken as not held, the nonce is probed for
			const bounded =
				typeof read === 'string' || read === undefined ? read : readNonceWithin(read, () => undefined);
			const nonce =
				signal == null || typeof bounded !== 'object' ? await bounded : await settleBefore(bounded, signal);
			// an empty nonce is none, as the DPoP layer takes it
			cached = typeof nonce === 'string' && nonce !== '';
		} catch {
			if (signal?.aborted) throw signal.reason;
			// a cache that cannot be read holds nothing the DPoP layer could send
		}
		return this.#host.nonceSightings.needsProbe(origin, cached);
	}

	/** `#fetch`, noting whether the PDS's answer announced a nonce. */
	async #fetchNoted(url: URL, init: RequestInit): Promise<Response> {
		const response = await this.#fetch(url, init);
		this.#host.nonceSightings.note(url.origin, response);
		return response;
	}

	/**
	 * `#probeNonce`, or the probe of `origin` with the same access token that another call (of this
	 * session, or another object of the account holding the same tokens) has under way.
	 */
	async #probeNonceOnce(
		origin: string,
		accessToken: string,
		signal: AbortSignal | null | undefined,
	): Promise<void> {
		const sightings = this.#host.nonceSightings;
		const pending = sightings.probing(origin, accessToken);
		if (pending !== undefined) {
			try {
				await (signal == null ? pending : settleBefore(pending, signal));
				return;
			} catch {
				if (signal?.aborted) throw signal.reason;
				// another caller's probe failed (its abort, its session refused): that says nothing
				// of ours, which is sent now
			}
		}
		const probe = this.#probeNonce(signal);
		sightings.probeStarted(origin, accessToken, probe);
		await probe;
	}

	/**
	 * a body-less authenticated call, sent before a stream so that the DPoP layer learns the PDS's
	 * current nonce from its answer (a refused first attempt is retried with it). made as any call
	 * (a stale token is refreshed first), not traced as a request of its own; its answer is let go.
	 * what it throws is thrown: the call itself would meet the same.
	 */
	async #probeNonce(signal: AbortSignal | null | undefined): Promise<void> {
		const response = await this.#send(NONCE_PROBE_PATH, signal == null ? {} : { signal });
		// a PDS that answers without any nonce does not use them: its streams go without a probe
		this.#host.nonceSightings.noteProbe(this.#originOf(this.#session.tokenSet.aud), response);
		await discardBody(response);
	}

	/**
	 * `pathname` resolved against the PDS URL `aud`. the token and its proofs go to the PDS alone:
	 * an absolute URL or a `//host` path, which would hand them to the server it names, is refused.
	 * @throws {TypeError} for a URL on another origin
	 */
	#pdsUrl(pathname: string, aud: string): URL {
		// parsed once: the DPoP layer takes htu from this URL object rather than parse it again
		const url = new URL(pathname, aud);
		if (url.origin !== this.#originOf(aud)) {
			throw new TypeError(
				`pathname must be a path on the PDS (${this.#audOrigin}), got a URL on ${url.origin}`,
			);
		}
		return url;
	}

	/** refreshes the tokens now, whether they are stale or not. */
	async refresh(): Promise<TokenInfo> {
		if (this.#signedOut) throw new SessionNotFoundError(this.did);
		await this.#refresh(undefined);
		return this.getTokenInfo();
	}

	/**
	 * signs out: revokes the refresh token (which ends the grant) and the access token at the
	 * server, best effort with a time limit, and always deletes the stored session. the tokens
	 * this object holds are revoked too when they are not the stored ones (the account signed in
	 * again since). once it resolves, this object sends nothing more: `handle()` and `refresh()`
	 * reject with `SessionNotFoundError`, even when the server could not be reached to revoke.
	 */
	async signOut(): Promise<void> {
		await this.#host.signOut(this.did, this.#session);
		this.#signedOut = true;
	}

	/**
	 * `#refresh`, for a request whose caller may give up: once `signal` aborts, its reason is thrown
	 * while the refresh, which others may share, goes on and is stored.
	 */
	#refreshFor(
		staleAccessToken: string,
		signal: AbortSignal | null | undefined,
		refused = false,
	): Promise<RefreshResult> {
		if (!signal) return this.#refresh(staleAccessToken, refused);
		signal.throwIfAborted();
		return settleBefore(this.#refresh(staleAccessToken, refused), signal);
	}

	/** refreshes (or adopts what another holder stored); says which, with the tokens now held. */
	async #refresh(staleAccessToken: string | undefined, refused = false): Promise<RefreshResult> {
		// a call under way when this object was signed out: nothing more is sent for it. above all,
		// the account's next sign-in, which a refresh would find stored, is not this object's to take up
		if (this.#signedOut) throw new SessionNotFoundError(this.did);
		let outcome: RefreshOutcome;
		try {
			outcome = await this.#host.refresh(this.did, staleAccessToken, refused);
		} catch (err) {
			// ended by this refresh, or before it by another object's (the store holds none)
			if (
				err instanceof TokenRefreshError ||
				err instanceof AuthMethodUnsatisfiableError ||
				err instanceof SessionNotFoundError
			) {
				this.#ended = true;
				this.#endings++;
			}
			throw err;
		}
		const { session, refreshed, withheld } = outcome;
		// the account signed in again meanwhile, and the stored session has a DPoP key of its own:
		// its tokens are bound to that key, so proofs are signed with it from now on (the old key's
		// proofs would be refused, and every refusal would spend another refresh)
		if (session.dpopKey.d !== this.#session.dpopKey.d) {
			const endings = this.#endings;
			const key = await this.#host.sessionKey(this.did, session);
			// another refresh of this object found the session ended (signed out) while the key was
			// imported: what this one read is older than that, so the store is read again
			if (this.#endings !== endings) return this.#refresh(staleAccessToken, refused);
			this.#fetch = this.#dpopFetch(key);
		}
		// only once the new session is taken up: an object that ended, and cannot take up the one
		// stored since (its key cannot be imported), stays ended and sends its old tokens no more
		this.#ended = false;
		this.#session = session;
		return { tokenSet: session.tokenSet, refreshed, withheld: withheld === true };
	}
}
