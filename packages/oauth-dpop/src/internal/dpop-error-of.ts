import { mediaTypeOf } from '@atcute-oauth/internal/media-type';

import { type AuthChallenge, parseWwwAuthenticate } from '../parse-www-authenticate.ts';
import { readCappedJson } from './read-capped-json.ts';

/** an OAuth error body is a few hundred bytes; a larger one is not worth reading. */
const ERROR_BODY_MAX_BYTES = 16 * 1024;

// application/json, or a +json type (the media type as `mediaTypeOf` gives it)
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/** the `DPoP` challenges of a response's `WWW-Authenticate` (a resource server's refusal). */
export const dpopChallengesOf = (response: Response): AuthChallenge[] => {
	const header = response.headers.get('www-authenticate');
	if (header === null) return [];
	return parseWwwAuthenticate(header).filter((challenge) => challenge.scheme === 'dpop');
};

/**
 * the `error` of a JSON error body (an authorization server's refusal), if any: read from a copy,
 * so the caller still gets the original body, and never past 16 KiB.
 */
export const jsonErrorOf = async (response: Response): Promise<string | undefined> => {
	// the last media type of a header sent more than once, as fetch reads it (see mediaTypeOf)
	if (!JSON_TYPE.test(mediaTypeOf(response.headers.get('content-type')) ?? '')) return undefined;
	const body = await readCappedJson(response.clone(), ERROR_BODY_MAX_BYTES);
	const error = (body as { error?: unknown } | undefined)?.error;
	return typeof error === 'string' ? error : undefined;
};
