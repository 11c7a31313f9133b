import { dpopChallengesOf, jsonErrorOf } from './dpop-error-of.ts';

/**
 * whether a server refused a request's DPoP proof (`invalid_dpop_proof`): a resource server's 401
 * `DPoP` challenge, or without one a JSON error body at 400 or 401 (the reference authorization
 * server answers 401).
 * the response body is left unread.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5
 */
export const isInvalidDpopProof = async (response: Response): Promise<boolean> => {
	const { status } = response;
	if (status !== 400 && status !== 401) return false;
	if (status === 401) {
		// a DPoP challenge says why: no need to read the body (a 401 invalid_token is common)
		const challenges = dpopChallengesOf(response);
		if (challenges.length > 0)
			return challenges.some((challenge) => challenge.params.error === 'invalid_dpop_proof');
	}
	return (await jsonErrorOf(response)) === 'invalid_dpop_proof';
};
