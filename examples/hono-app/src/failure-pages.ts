import {
	DiscoveryError,
	IdentityMismatchError,
	IdentityResolutionError,
	LockTimeoutError,
	LockUnavailableError,
	OAuthCallbackError,
	OAuthResponseError,
	OAuthTransientError,
} from '@atcute/oauth-node-client';

/** a friendly error page: its status, what to say, and the error code when there is one. */
export interface FailurePage {
	status: 400 | 403 | 404 | 413 | 500 | 502 | 503;
	title: string;
	message: string;
	code?: string | undefined;
	/** whether the error is worth a log line (not the user's own doing). */
	log?: boolean;
}

const START_AGAIN = 'start again from the home page.';

/** what an OAuth error code looks like: a short lower-case token. */
const ERROR_CODE = /^[a-z_]{1,64}$/;
/** an `error` from a server or a link, as a page shows it: an OAuth error code, or `invalid_response`. */
const shownCode = (code: string): string => (ERROR_CODE.test(code) ? code : 'invalid_response');
/** what an XRPC error name looks like: `InvalidToken`, `AccountTakedown`, `ExpiredToken`. */
const XRPC_ERROR = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/**
 * the `error` of a PDS's XRPC answer, as a page shows it: an XRPC error name, or
 * `invalid_response` for anything else (a sentence, a page of text: any PDS may write it).
 */
export const shownXrpcError = (error: unknown): string =>
	typeof error === 'string' && XRPC_ERROR.test(error) ? error : 'invalid_response';

/** a failure that passes: a server not answering, a busy lock, a lock backend not answering. */
const isPassing = (error: unknown): boolean =>
	error instanceof OAuthTransientError ||
	error instanceof LockTimeoutError ||
	(error instanceof LockUnavailableError && error.transient);

const CALLBACK_MESSAGES: Record<string, string> = {
	// not only a user who declined: the reference server sends it for a request that expired on
	// its page, or an account that is deactivated, so the page does not say who chose it
	access_denied: `the sign-in was not completed (declined, expired, or refused by your account's server), so nothing was shared with this app. ${START_AGAIN}`,
	invalid_state: `this sign-in link was already used or is unknown. ${START_AGAIN}`,
	expired_state: `this sign-in took longer than 10 minutes. ${START_AGAIN}`,
	missing_state: `this is not a complete sign-in response. ${START_AGAIN}`,
};

/** the page for a failed `oauth.authorize()`, or undefined for an unexpected error. */
export const loginFailurePage = (error: unknown, identifier: string): FailurePage | undefined => {
	if (error instanceof IdentityResolutionError) {
		if (error.transient) {
			// the directory or the handle's server did not answer: not the user's mistake
			return {
				status: 503,
				title: 'try again in a moment',
				message: `the account “${identifier}” could not be looked up just now. try again in a moment.`,
				code: 'identity_unavailable',
				log: true,
			};
		}
		if (error.reason === 'invalid_identifier') {
			return {
				status: 400,
				title: 'not a handle',
				message: `“${identifier}” is not a handle (like alice.bsky.social) or a DID. check it and try again.`,
				code: 'invalid_handle',
			};
		}
		return {
			status: 400,
			title: 'account not found',
			message: `no atproto account could be found for “${identifier}”. check the spelling and try again.`,
			code: 'unknown_handle',
		};
	}
	if (error instanceof DiscoveryError && error.transient) {
		return {
			status: 503,
			title: 'try again in a moment',
			message: `the server of “${identifier}” could not be reached just now. try again in a moment.`,
			code: error.code,
			log: true,
		};
	}
	if (error instanceof DiscoveryError) {
		return {
			status: 502,
			title: 'sign-in is not available',
			message: `the server of “${identifier}” does not offer a usable OAuth sign-in.`,
			code: error.code,
			log: true,
		};
	}
	if (error instanceof OAuthResponseError) {
		const unverified = error.error === 'invalid_client_metadata' || error.error === 'invalid_client';
		return {
			status: 502,
			title: 'sign-in was refused',
			message: unverified
				? 'the authorization server could not verify this app. is PUBLIC_URL reachable from the internet, serving this app?'
				: 'the authorization server refused to start the sign-in.',
			// any server's words, on this app's page (a visitor's handle picks the server): only
			// what has the form of an OAuth error code, never free text
			code: shownCode(error.error),
			log: true,
		};
	}
	if (isPassing(error)) {
		return {
			status: 503,
			title: 'try again in a moment',
			message: `the server of “${identifier}” could not be reached just now.`,
			log: true,
		};
	}
	return undefined;
};

/** the page for a failed `oauth.callback()`, or undefined for an unexpected error. */
export const callbackFailurePage = (error: unknown): FailurePage | undefined => {
	if (error instanceof OAuthCallbackError) {
		return {
			status: 400,
			title: error.error === 'access_denied' ? 'sign-in not completed' : 'sign-in failed',
			// own keys only: a code such as `constructor` would read Object.prototype's function
			message: Object.hasOwn(CALLBACK_MESSAGES, error.error)
				? CALLBACK_MESSAGES[error.error]!
				: `the sign-in could not be completed. ${START_AGAIN}`,
			// the server's `error` comes in the callback's URL, which anyone can write: shown only
			// when it has the form of an OAuth error code (RFC 6749 §4.1.2.1), never as free text
			code: shownCode(error.error),
		};
	}
	if (error instanceof IdentityMismatchError) {
		return {
			status: 400,
			title: 'sign-in failed',
			message: 'the account that signed in is not the one that was asked for.',
			code: `${error.field}_mismatch`,
			log: true,
		};
	}
	if (error instanceof OAuthResponseError) {
		return {
			status: 502,
			title: 'sign-in failed',
			message: `the authorization server refused to complete the sign-in. ${START_AGAIN}`,
			// a link to a callback of the sender's own sign-in, on the sender's own server, puts
			// that server's words here: only an OAuth error code's form is shown
			code: shownCode(error.error),
			log: true,
		};
	}
	if (isPassing(error) || error instanceof DiscoveryError || error instanceof IdentityResolutionError) {
		return {
			status: 503,
			title: 'try again in a moment',
			message: `a server needed to finish the sign-in could not be reached. ${START_AGAIN}`,
			log: true,
		};
	}
	return undefined;
};
