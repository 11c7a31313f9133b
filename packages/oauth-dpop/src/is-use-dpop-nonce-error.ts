import { readCappedJson } from './internal/read-capped-json.ts';
import { parseWwwAuthenticate } from './parse-www-authenticate.ts';

/** an OAuth error body is a few hundred bytes; a larger one is not worth reading. */
const ERROR_BODY_MAX_BYTES = 16 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * whether a response asks for a (new) DPoP nonce: an authorization server answers 400 with the
 * JSON error `use_dpop_nonce`, a resource server answers 401 with a `WWW-Authenticate: DPoP`
 * challenge whose `error` is `use_dpop_nonce`. the response body is left unread.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 */
export const isUseDpopNonceError = async (response: Response): Promise<boolean> => {
	if (response.status === 401) {
		const header = response.headers.get('www-authenticate');
		if (header === null) return false;
		return parseWwwAuthenticate(header).some(
			(challenge) => challenge.scheme === 'dpop' && challenge.params.error === 'use_dpop_nonce',
		);
	}

	if (response.status === 400 && JSON_TYPE.test(response.headers.get('content-type') ?? '')) {
		// read a copy so the caller still gets the original body
		const body = await readCappedJson(response.clone(), ERROR_BODY_MAX_BYTES);
		return (body as { error?: unknown } | undefined)?.error === 'use_dpop_nonce';
	}
	return false;
};
