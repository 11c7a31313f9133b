import { dpopChallengesOf, jsonErrorOf } from './dpop-error-of.ts';

/**
 * whether a server refused a request's DPoP proof (`invalid_dpop_proof`): a 401 `DPoP` challenge,
 * or without one a JSON error body at 401, or at 400 for a request without an access token (an
 * authorization server's; the reference one answers 401). a resource server refuses a proof
 * with a 401 (RFC 9449 §7.1), so a 400 to a request with an access token is the API's own error
 * (XRPC's `InvalidRequest`, say), and its body is not read. the response body is left unread.
 * @param withToken whether the request carried a DPoP access token (went to a resource server)
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 */
export const isInvalidDpopProof = async (response: Response, withToken: boolean): Promise<boolean> => {
	const { status } = response;
	if (status === 401) {
		// a DPoP challenge says why: no need to read the body (a 401 invalid_token is common)
		const challenges = dpopChallengesOf(response);
		if (challenges.length > 0) {
			return challenges.some((challenge) => challenge.params.error === 'invalid_dpop_proof');
		}
	} else if (status !== 400 || withToken) {
		return false;
	}
	return (await jsonErrorOf(response)) === 'invalid_dpop_proof';
};
