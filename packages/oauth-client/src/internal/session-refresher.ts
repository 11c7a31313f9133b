import type { Did } from '@atcute/lexicons';
import { AUTHORIZATION_SERVER_METADATA_PATH, DiscoveryError } from '@atcute/oauth-discovery';

import { REFUSED_RETRY_MS, REVOCATION_TIMEOUT_MS } from '../constants.ts';
import {
	IdentityMismatchError,
	IdentityResolutionError,
	OAuthResponseError,
	OAuthTransientError,
	SessionNotFoundError,
	TokenRefreshError,
	type TransientErrorKind,
} from '../errors.ts';
import type { LockFunction } from '../lock.ts';
import type { SessionDeletedCause } from '../session-events.ts';
import type { SessionStore, StoredSession, TokenSet } from '../stored-types.ts';
import type { TokenResponse } from '../token-response.ts';
import { isStale, toTokenSet } from '../token-set.ts';
import type { OAuthTracer, RefreshTraceContext } from '../tracer.ts';
import { type AuthorizationServerAgent, RefusedTokenResponseError } from './authorization-server-agent.ts';
import { checkHold, underLockRetryingOnce } from './hold-lost.ts';
import type { MonotonicLifetimes } from './monotonic-lifetimes.ts';
import { readStoredSession, type StoredSessionRules } from './read-stored-session.ts';
import type { CurrentIdentity } from './resolve-identity.ts';
import { RetryAfterHolds } from './retry-after-holds.ts';
import { sessionEndCause } from './session-end-cause.ts';
import { readStoredOrWhy, storedByAnother, storeIssuedSession } from './store-issued-session.ts';

/** what a `SessionRefresher` needs from its client. */
export interface SessionRefresherOptions {
	sessions: SessionStore;
	/** what the client asks of a stored session beyond its shape (see `readStoredSession`). */
	rules: StoredSessionRules;
	lock: LockFunction;
	now: () => number;
	/** notes each token set obtained, on a clock that never steps (with the default `now` only). */
	lifetimes: MonotonicLifetimes | undefined;
	/** the agent for a session's issuer, with its pinned key; throws `AuthMethodUnsatisfiableError`. */
	agentFor: (did: Did, session: StoredSession) => Promise<AuthorizationServerAgent>;
	/**
	 * checks, with nothing sent, that the session's pinned client key is still in the keyset, as
	 * the same key material; throws `AuthMethodUnsatisfiableError` as `agentFor` would.
	 */
	checkClientKey: (did: Did, session: StoredSession) => Promise<void>;
	/** the account's identity, resolved afresh; `issuer`: the session's. */
	resolveIdentity: (did: Did, issuer: string) => Promise<CurrentIdentity>;
	/** deletes a session that ended, and reports it; called under the session's lock. */
	end: (did: Did, cause: SessionDeletedCause, ended: StoredSession) => Promise<void>;
	/** reports a session that was stored; called under the session's lock, must not wait. */
	stored: (did: Did, session: StoredSession) => void;
	/** drops from memory the DPoP private key of a session that ended here without a delete. */
	forgetKey: (session: StoredSession) => void;
	tracer: OAuthTracer | undefined;
}

/** what kind of transient failure a `DiscoveryError` is, as the agent classifies its own. */
const transientKind = ({ code, status }: DiscoveryError): TransientErrorKind => {
	if (code === 'timeout' || status === 408) return 'timeout';
	if (status === 429) return 'rate_limited';
	return status === undefined ? 'network' : 'server_error';
};

/**
 * `err`, met reading the metadata of the session's `issuer`: one that may pass is an
 * `OAuthTransientError`, as every other failure to reach a server is (the session is kept).
 */
const issuerUnreachable = (did: Did, issuer: string, err: unknown): unknown => {
	if (!(err instanceof DiscoveryError && err.transient)) return err;
	return new OAuthTransientError(
		transientKind(err),
		`the authorization server ${issuer} could not be reached before the refresh of ${did}`,
		err.status,
		// its Retry-After holds the session's refreshes back, as the token endpoint's would
		{ cause: err, retryAfterMs: err.retryAfterMs },
	);
};

/** what a refresh gave: the session as stored after it, and whether it refreshed or adopted it. */
export interface RefreshOutcome {
	session: StoredSession;
	refreshed: boolean;
	/**
	 * `true` when no refresh was made for a refused token the PDS had already refused on its
	 * arrival, moments ago (see `REFUSED_RETRY_MS`): the caller keeps the refusal.
	 */
	withheld?: boolean;
	/**
	 * `true` when the session was read without the lock (a hold of the caller's own tokens): a
	 * caller holding other tokens does not take it up, as a sign-out may be revoking it.
	 */
	unlocked?: boolean;
}

/**
 * whether the PDS refused `tokenSet` on its arrival, less than `REFUSED_RETRY_MS` after it was
 * requested. a clock set back past `issued_at` does not hold refreshes back.
 */
const refusedOnArrivalRecently = (tokenSet: TokenSet, now: number): boolean => {
	if (tokenSet.refused_on_arrival !== true || tokenSet.issued_at === undefined) return false;
	const elapsed = now - tokenSet.issued_at;
	return elapsed >= 0 && elapsed < REFUSED_RETRY_MS;
};

/**
 * whether the stored `tokenSet` holds a refresh back for a caller refused `staleAccessToken`: it is
 * that very token, unexpired, and the PDS refused it on its arrival moments ago (it refuses every
 * token, and another refresh would only spend one more refresh token).
 */
const heldBack = (tokenSet: TokenSet, staleAccessToken: string | undefined, now: number): boolean =>
	tokenSet.access_token === staleAccessToken &&
	!isStale(tokenSet, now) &&
	refusedOnArrivalRecently(tokenSet, now);

/** the key of the refused-on-arrival mark of `accessToken` being written. */
const markKey = (did: Did, accessToken: string): string => `${did} ${accessToken}`;

/**
 * the answer the stored `session` gives a caller without a refresh, if any: tokens other than
 * `staleAccessToken`, fresh, to adopt (another holder refreshed them meanwhile); or, for a
 * `refused` token the PDS already refused on its arrival moments ago, the refresh held back (it
 * refuses every token, and another refresh would only spend one more refresh token). read from
 * the store, so this holds for every process on it. notes which in `context`.
 */
const answerWithoutRefresh = (
	session: StoredSession,
	staleAccessToken: string | undefined,
	refused: boolean,
	context: RefreshTraceContext,
	now: number,
): RefreshOutcome | undefined => {
	const { tokenSet } = session;
	if (staleAccessToken === undefined || isStale(tokenSet, now)) return undefined;
	if (tokenSet.access_token !== staleAccessToken) {
		// marked so as not to count as a refresh
		context.adopted = true;
		return { session, refreshed: false };
	}
	if (refused && heldBack(tokenSet, staleAccessToken, now)) {
		context.withheld = true;
		return { session, refreshed: false, withheld: true };
	}
	return undefined;
};

/**
 * revokes, best effort, tokens a refresh got but keeps nowhere (its refresh token, ending the
 * grant, else its access token): left live, they would be stored by nobody.
 */
const revokeUnkept = async (
	agent: AuthorizationServerAgent,
	tokens: { refresh_token?: string | undefined; access_token: string },
): Promise<void> => {
	await agent
		.revoke(tokens.refresh_token ?? tokens.access_token, AbortSignal.timeout(REVOCATION_TIMEOUT_MS))
		.catch(() => {});
};

/** what a refresh tried to store, once it got that far. */
interface RefreshAttempt {
	written?: StoredSession;
}

/** whether a stored value (of any shape a store hands back) holds `refreshToken`. */
const holdsRefreshToken = (stored: unknown, refreshToken: string | undefined): boolean =>
	(stored as { tokenSet?: { refresh_token?: unknown } } | undefined)?.tokenSet?.refresh_token ===
	refreshToken;

/**
 * the lock was found lost while the token request ran, and the store then held another session
 * than the one the refresh read: another holder stored it meanwhile (a sign-in again, which
 * revoked the grant this refresh came from; a sign-out), and it is kept. `read`: what the store
 * held (`value`; undefined: none), or why it could not be read for good (`unreadable`: an entry
 * written by a process whose key this one lacks).
 */
class SupersededWhileLockLost extends Error {
	constructor(readonly read: { value: unknown } | { unreadable: unknown }) {
		super('the session was stored anew while the lock was lost');
	}
}

/**
 * how many refreshes under way a caller waits for before it starts its own, when none did for it
 * (each adopted the very token it found refused): a bound on an unlucky run of them.
 */
const MAX_JOINS = 3;

/**
 * the name of a session's lock: one refresh per account at a time, across processes. the name
 * upstream `@atcute/oauth-node-client` 2.x locks under, so that during a rolling deploy from it,
 * old and new processes on one shared lock never both spend a refresh token.
 */
export const sessionLockName = (did: Did): string => `oauth-session-${did}`;

/**
 * refreshes sessions: one refresh per account at a time in this process (callers share it),
 * under the session's lock for the others, with the session re-read inside the lock. a
 * definitive failure (see `sessionEndCause`) deletes the session; any other keeps it.
 * @see https://atproto.com/specs/oauth#tokens-and-session-management
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export class SessionRefresher {
	readonly #options: SessionRefresherOptions;
	/** the refresh under way for each account, which every caller meanwhile shares. */
	readonly #pending = new Map<Did, Promise<RefreshOutcome>>();
	/** the accounts whose refreshes wait out the authorization server's `Retry-After`. */
	readonly #holds: RetryAfterHolds;
	/** the refused-on-arrival marks being written, by account and access token. */
	readonly #marks = new Map<string, Promise<void>>();

	constructor(options: SessionRefresherOptions) {
		this.#options = options;
		this.#holds = new RetryAfterHolds(options.now);
	}

	/** forgets what was noted about `did`'s refreshes (its session ended): see `RetryAfterHolds.forget`. */
	forget(did: Did): void {
		this.#holds.forget(did);
	}

	/**
	 * refreshes the session of `did`, or adopts tokens another holder stored meanwhile.
	 * `staleAccessToken` is the token the caller found expired or refused (`refused`: the PDS
	 * refused it); absent forces a refresh.
	 */
	async refresh(did: Did, staleAccessToken: string | undefined, refused = false): Promise<RefreshOutcome> {
		// callers share the refresh under way, its failure included: one request per account. what
		// it brings does for a caller unless it is the very token that caller found refused (it
		// adopted that one), or the caller asked for a refresh and it made none: that caller goes next.
		// a refresh held back for a refused token holds back every caller the PDS refused it to
		// the refused-on-arrival mark of this very token, being written: it decides whether a
		// refresh is held back, so it is waited for rather than raced to the lock (never rejects)
		const marking =
			refused && staleAccessToken !== undefined && this.#marks.get(markKey(did, staleAccessToken));
		if (marking) await marking;
		for (let joined = 0; joined < MAX_JOINS; joined++) {
			const pending = this.#pending.get(did);
			if (pending === undefined) break;
			const outcome = await pending;
			const { session, refreshed, withheld } = outcome;
			if (staleAccessToken === undefined ? refreshed : session.tokenSet.access_token !== staleAccessToken) {
				// read without the lock, for another caller's hold: this one adopts under the lock
				if (outcome.unlocked) continue;
				// held back for another token: the stored one is this caller's to adopt (and retry)
				return withheld ? { session, refreshed: false } : outcome;
			}
			if (withheld && refused) return outcome;
		}
		return this.#start(did, staleAccessToken, refused);
	}

	/** starts a refresh under the session's lock, the one others join until it settles. */
	#start(did: Did, staleAccessToken: string | undefined, refused: boolean): Promise<RefreshOutcome> {
		const { lock, tracer } = this.#options;
		const context: RefreshTraceContext = { sub: did };
		const name = sessionLockName(did);
		// a hold found lost before the refresh token went out: run again from the session as stored
		// once the lock is held again, as another holder may have refreshed it meanwhile (adopted then)
		const run = async (): Promise<RefreshOutcome> => {
			// a refused token's caller reads the store first, unlocked: a token the PDS refused on
			// its arrival moments ago (it refuses every token) is held back without queueing at the
			// lock for it (each late caller of a PDS that refuses every token took it twice)
			const answer = refused ? await this.#answerUnlocked(did, staleAccessToken, context) : undefined;
			return (
				answer ??
				underLockRetryingOnce(lock, name, (lost) =>
					this.#refreshLocked(did, staleAccessToken, refused, context, lost),
				)
			);
		};
		const pending: Promise<RefreshOutcome> = (tracer ? tracer.trace('refresh', context, run) : run()).finally(
			() => {
				if (this.#pending.get(did) === pending) this.#pending.delete(did);
			},
		);
		this.#pending.set(did, pending);
		return pending;
	}

	async #refreshLocked(
		did: Did,
		staleAccessToken: string | undefined,
		refused: boolean,
		context: RefreshTraceContext,
		lost: AbortSignal | undefined,
	): Promise<RefreshOutcome> {
		const { sessions, now, end } = this.#options;
		// re-read inside the lock: another holder may have refreshed (or ended) it meanwhile
		const stored = await sessions.get(did);
		// null: a store that answers so for a missing key
		if (stored == null) {
			throw new SessionNotFoundError(did);
		}
		const session = readStoredSession(did, stored, this.#options.rules);
		context.issuer = session.tokenSet.iss;
		const { tokenSet } = session;
		// traced all the same (the caller waited for the lock)
		const answer = answerWithoutRefresh(session, staleAccessToken, refused, context, now());
		if (answer !== undefined) return answer;

		const attempt: RefreshAttempt = {};
		try {
			return { session: await this.#refreshOnce(did, session, context, attempt, lost), refreshed: true };
		} catch (err) {
			if (err instanceof SupersededWhileLockLost) {
				// the session this refresh read has ended here: its private key leaves memory
				this.#options.forgetKey(session);
				// a store that cannot read the entry for good (one under a key this process lacks, or
				// a store closed for good): nothing is written or deleted, and the session has ended
				// for this process (its new tokens revoked), as a failed write ends it
				if ('unreadable' in err.read) {
					throw new TokenRefreshError(
						did,
						'store_failed',
						`the refreshed session of ${did} was not stored: the store could not read the session once the lock was lost`,
						{ cause: err.read.unreadable },
					);
				}
				context.supersededWhileLockLost = true;
				// what another holder stored is what this refresh hands back: the newer sign-in's
				// session, or none (signed out meanwhile)
				if (err.read.value == null) throw new SessionNotFoundError(did);
				return {
					session: readStoredSession(did, err.read.value as StoredSession, this.#options.rules),
					refreshed: false,
				};
			}
			// the one rule deciding whether this failure ends the session
			const cause = sessionEndCause(err);
			// a failure ends the session this refresh read (or the one it wrote, if a failed write
			// landed after all), not one another process stored meanwhile under the lock this one
			// lost (PostgreSQL's advisory lock goes with a restart): that session is live, and is
			// adopted, as tokens another holder refreshed are
			if (cause !== undefined) {
				const found = await storedByAnother(
					sessions,
					did,
					(stored) => holdsRefreshToken(stored, tokenSet.refresh_token),
					attempt.written,
				);
				if (found !== undefined) {
					// an entry this process cannot read for good: not its to delete, nor to take up
					if ('unreadable' in found) throw err;
					// none stored: another holder ended the session meanwhile (a sign-out while the lock
					// was lost) and reported it; no `deleted` here for a delete this refresh did not make
					if (found.value === undefined) {
						this.#options.forgetKey(session);
						throw err;
					}
					let adopted: StoredSession;
					try {
						adopted = readStoredSession(did, found.value as StoredSession, this.#options.rules);
					} catch {
						// not a session this client can use: this refresh's failure stands
						throw err;
					}
					// a session of the same grant (the same DPoP key; a new sign-in has its own) another
					// holder stored after `invalid_grant`: both spent the refresh token this one sent,
					// under a lock one of them lost, and the server, seeing it twice, may have ended the
					// grant with theirs (RFC 9700 §4.14.2), or refused this one for another reason and
					// kept it. neither taken up as if it worked nor deleted: the failure stands, and the
					// stored session is left to its own next refresh
					if (cause === 'invalid_grant' && adopted.dpopKey.d === session.dpopKey.d) throw err;
					// not `adopted`, which says fresh tokens were found in place of a refresh: this one
					// failed for good (its token request refused, most often)
					context.adoptedAfter = cause;
					// the session this refresh read has ended here: its private key leaves memory
					this.#options.forgetKey(session);
					return { session: adopted, refreshed: false };
				}
				// a failed delete must not hide why the session ended
				await end(did, cause, session).catch(() => {});
			}
			throw err;
		}
	}

	/**
	 * what the stored session, read without the lock, answers a refused token's caller: the
	 * refresh held back, when it still holds that token, marked refused on arrival moments ago.
	 * undefined: the lock is needed (tokens to adopt or a refresh to make, or a session that is
	 * missing or unreadable, which the read under it reports).
	 */
	async #answerUnlocked(
		did: Did,
		staleAccessToken: string | undefined,
		context: RefreshTraceContext,
	): Promise<RefreshOutcome | undefined> {
		const { sessions, now, rules } = this.#options;
		let session: StoredSession;
		try {
			const stored = await sessions.get(did);
			if (stored == null) return undefined;
			session = readStoredSession(did, stored, rules);
		} catch {
			// whatever failed here fails again under the lock, where it is reported as it always was
			return undefined;
		}
		// only a hold of the very tokens the caller holds: it sends nothing, and takes nothing up.
		// tokens to adopt are read under the lock, which a sign-out (or a sign-in replacing them)
		// holds while it revokes them: read without it, a caller took up the tokens of a session
		// whose sign-out was under way, and sent them after it resolved
		const { tokenSet } = session;
		if (!heldBack(tokenSet, staleAccessToken, now())) return undefined;
		context.issuer = tokenSet.iss;
		context.withheld = true;
		return { session, refreshed: false, withheld: true, unlocked: true };
	}

	async #refreshOnce(
		did: Did,
		session: StoredSession,
		context: RefreshTraceContext,
		attempt: RefreshAttempt,
		lost: AbortSignal | undefined,
	): Promise<StoredSession> {
		const { sessions, now, stored } = this.#options;
		const { tokenSet } = session;
		const refreshToken = tokenSet.refresh_token;
		if (refreshToken === undefined) {
			throw new TokenRefreshError(did, 'no_refresh_token', `the session of ${did} has no refresh token`);
		}

		// a session whose key was rotated out fails here, before anything is sent
		await this.#options.checkClientKey(did, session);
		// the server asked to wait before this refresh token is sent again. checked after the
		// stored session was read (tokens another holder stored are adopted or refreshed, not held)
		// and before the authorization server's metadata is fetched: nothing goes to it meanwhile
		const held = this.#holds.check(did, refreshToken);
		if (held !== undefined) {
			context.waitingOnRetryAfter = true;
			throw held;
		}
		// the account must still lead to this issuer before its refresh token is sent anywhere. asked
		// before the issuer's metadata: an account that moved away from an issuer since shut down (or
		// down for good) is told by its identity, not kept as transient for as long as that server is
		let identity: CurrentIdentity;
		try {
			identity = await this.#currentIdentity(did, tokenSet.iss);
		} catch (caught) {
			// the identity could not be resolved for now (its DID, or its PDS, which may be the issuer's
			// own host): the session's issuer is asked as it was before the identity came first, and
			// its failure, when it fails too, is the one reported (the errors of an account that did
			// not move stay what they were: `network`, `server_error`, its Retry-After)
			const err =
				caught instanceof OAuthTransientError && caught.kind === 'identity'
					? await this.#agentFor(did, session).then(
							() => caught,
							(unreachable: unknown) => unreachable,
						)
					: caught;
			this.#holds.note(did, refreshToken, err);
			// the account moved to another issuer: the session ends, and its grant at the issuer that
			// made it (and only there) is revoked, best effort, rather than left live until it expires
			// (not when that issuer cannot be reached: the session ends all the same)
			if (err instanceof TokenRefreshError && err.reason === 'issuer_changed') {
				await this.#agentFor(did, session)
					.then((agent) => agent.revoke(refreshToken, AbortSignal.timeout(REVOCATION_TIMEOUT_MS)))
					.catch(() => {});
			}
			throw err;
		}
		let agent: AuthorizationServerAgent;
		try {
			agent = await this.#agentFor(did, session);
		} catch (err) {
			// a metadata server that asked to wait (Retry-After) is not asked again before then
			this.#holds.note(did, refreshToken, err);
			throw err;
		}

		// the lock was lost while the session was read and its servers looked up: another process may
		// hold it now and be sending this same refresh token, and a refresh token the server sees
		// twice ends the grant. checked last, right before the token goes out
		const checkRefreshHold = () => {
			if (lost?.aborted) context.lockLost = true;
			checkHold(
				sessionLockName(did),
				lost,
				() =>
					`the lock "${sessionLockName(did)}" was lost before the refresh token of ${did} was sent: nothing was sent`,
			);
		};
		checkRefreshHold();
		// the new tokens' lifetime counts from the request, not from its answer: the server's
		// clock started before ours would, had we read it after
		const sentAt = now();
		const sentMonotonic = this.#options.lifetimes?.sentAt();
		let tokens: TokenResponse;
		try {
			// from here on the refresh token is spent: this request is not abortable
			// checked again before each retry (a DPoP nonce, the server's clock): the refused attempt
			// consumed nothing, and the token goes out anew
			tokens = await agent.refresh(refreshToken, checkRefreshHold);
		} catch (err) {
			this.#holds.note(did, refreshToken, err);
			// the server issued tokens that failed our checks (the agent revoked them): the refresh
			// token is spent and the grant ended, so the session can never work again
			if (err instanceof RefusedTokenResponseError) {
				throw new TokenRefreshError(did, 'invalid_response', `the refresh of ${did} failed: ${err.message}`, {
					cause: err,
				});
			}
			// only the server's refusal is definitive; network errors, 5xx and 429 keep the session
			if (err instanceof OAuthResponseError && err.error === 'invalid_grant') {
				throw new TokenRefreshError(
					did,
					'invalid_grant',
					`the refresh of ${did} was refused: ${err.message}`,
					{
						cause: err,
					},
				);
			}
			throw err;
		}

		// the server's own sub, not our copy of it: tokens for another account are never kept
		if (tokens.sub !== did) {
			await revokeUnkept(agent, tokens);
			throw new TokenRefreshError(
				did,
				'sub_mismatch',
				`the refreshed tokens are for ${tokens.sub}, not ${did}`,
			);
		}
		const next: StoredSession = {
			...session,
			// the PDS as resolved just now: an account that moved PDS under the same issuer follows
			tokenSet: toTokenSet(tokens, tokenSet.iss, identity.pds, sentAt, refreshToken),
		};
		if (sentMonotonic !== undefined) this.#options.lifetimes?.note(next.tokenSet, sentMonotonic);
		if (lost?.aborted) {
			// the lock was lost while the token request ran: another holder may have stored a session
			// since (the account signed in again, which revoked the grant these tokens came from, or
			// signed out). written only over the session this refresh read; another is left as it is,
			// and these tokens are revoked rather than left live (this narrows the window: a write
			// after this read is not seen)
			context.lockLost = true;
			// read through passing failures, as a sign-in reads what it replaces. one that still
			// fails leaves the store unable to say: written as before (the write retries, and
			// revokes these tokens if it cannot land), rather than lose them with no revocation. an
			// entry unreadable for good was rewritten by a process this one cannot follow: kept
			const read = await readStoredOrWhy(sessions, did);
			if (read !== undefined && ('unreadable' in read || !holdsRefreshToken(read.value, refreshToken))) {
				await revokeUnkept(agent, tokens);
				throw new SupersededWhileLockLost(read);
			}
		}
		attempt.written = next;
		try {
			// retried only over the session this refresh read, still holding the token it spent
			await storeIssuedSession(sessions, did, next, (stored) => holdsRefreshToken(stored, refreshToken));
		} catch (err) {
			// the old refresh token is spent and the new one could not be kept: the session is lost
			// either way, so revoke what we hold rather than leave it live (whoever's session is
			// stored now)
			await revokeUnkept(agent, next.tokenSet);
			throw new TokenRefreshError(
				did,
				'store_failed',
				`the refreshed session of ${did} could not be stored`,
				{
					cause: err,
				},
			);
		}
		stored(did, next);
		return next;
	}

	/**
	 * notes that the PDS refused `accessToken` on its arrival, right after the refresh that brought
	 * it: the stored session is marked (`refused_on_arrival`), under its lock, when it still holds
	 * that token. refusals of it then hold refreshes back for a while. best effort: a failure to
	 * store the mark is ignored (the next refusal refreshes, as it would have).
	 */
	markRefusedOnArrival(did: Did, accessToken: string): Promise<void> {
		// one mark per token at a time: every caller the PDS refused it to shares it, rather than
		// take the lock in turn to write the same mark
		const key = markKey(did, accessToken);
		let pending = this.#marks.get(key);
		if (pending === undefined) {
			pending = this.#mark(did, accessToken).finally(() => this.#marks.delete(key));
			this.#marks.set(key, pending);
		}
		return pending;
	}

	async #mark(did: Did, accessToken: string): Promise<void> {
		const { lock, sessions } = this.#options;
		/** the stored session, when it still holds `accessToken` unmarked. */
		const unmarked = async (): Promise<StoredSession | undefined> => {
			const stored = await sessions.get(did);
			if (stored == null) return undefined;
			const session = readStoredSession(did, stored, this.#options.rules);
			const { tokenSet } = session;
			if (tokenSet.access_token !== accessToken || tokenSet.refused_on_arrival === true) return undefined;
			return session;
		};
		try {
			// read first, unlocked: the callers refused this token one after another find it marked
			// by the first, and take no lock for it
			if ((await unmarked()) === undefined) return;
			await lock(sessionLockName(did), async (lost) => {
				// again under the lock: a refresh may have replaced the tokens meanwhile
				const session = await unmarked();
				if (session === undefined) return;
				// a lock lost by now may be another holder's, whose newer session (refreshed, signed in
				// again or out) this write of the read one would replace: the mark is best effort
				if (lost?.aborted) return;
				const { tokenSet } = session;
				await sessions.set(did, { ...session, tokenSet: { ...tokenSet, refused_on_arrival: true } });
			});
		} catch {
			// a lock or store failure costs only the hold
		}
	}

	/**
	 * the agent for the session's issuer. metadata that cannot be fetched for now is an
	 * `OAuthTransientError`, as every other failure to reach a server is (the session is kept).
	 */
	async #agentFor(did: Did, session: StoredSession): Promise<AuthorizationServerAgent> {
		try {
			return await this.#options.agentFor(did, session);
		} catch (err) {
			throw issuerUnreachable(did, session.tokenSet.iss, err);
		}
	}

	/**
	 * the account's identity now. a failure to resolve it keeps the session: one that may pass is
	 * an `OAuthTransientError`; a permanent one (the DID is gone, its document names no PDS) is
	 * thrown as the `IdentityResolutionError` it is, `transient: false`, so retries stop.
	 */
	async #currentIdentity(did: Did, issuer: string): Promise<CurrentIdentity> {
		let identity: CurrentIdentity;
		try {
			identity = await this.#options.resolveIdentity(did, issuer);
		} catch (err) {
			// the PDS still names the session's issuer, whose own metadata could not be read: that
			// server's failure, reported as the agent's would be (it is asked for the same document)
			if (err instanceof DiscoveryError && err.url === issuer + AUTHORIZATION_SERVER_METADATA_PATH) {
				throw issuerUnreachable(did, issuer, err);
			}
			if ((err instanceof IdentityResolutionError || err instanceof DiscoveryError) && err.transient) {
				throw new OAuthTransientError(
					'identity',
					`the identity of ${did} could not be resolved before its refresh`,
					undefined,
					// a PDS's metadata that asked to wait (Retry-After) holds the refreshes back so long
					{ cause: err, retryAfterMs: err instanceof DiscoveryError ? err.retryAfterMs : undefined },
				);
			}
			throw err;
		}
		if (identity.issuer !== issuer) {
			// nothing is sent to the new hosts: they did not issue this session's tokens
			throw new TokenRefreshError(
				did,
				'issuer_changed',
				`the identity of ${did} now leads to ${identity.issuer}, not ${issuer}`,
				{ cause: new IdentityMismatchError('issuer', issuer, identity.issuer) },
			);
		}
		return identity;
	}
}
