import { dpopChallengesOf, jsonErrorOf } from './internal/dpop-error-of.ts';

/**
 * whether a response asks for a (new) DPoP nonce: an authorization server answers 400 with the
 * JSON error `use_dpop_nonce`, a resource server answers 401 with a `WWW-Authenticate: DPoP`
 * challenge whose `error` is `use_dpop_nonce`. the body of a 400 is read from a copy (up to 16
 * KiB), so the response can still be read.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 */
export const isUseDpopNonceError = async (response: Response): Promise<boolean> => {
	if (response.status === 401) {
		return dpopChallengesOf(response).some((challenge) => challenge.params.error === 'use_dpop_nonce');
	}
	if (response.status === 400) return (await jsonErrorOf(response)) === 'use_dpop_nonce';
	return false;
};
