import { NoCompatibleKeyError } from './errors.ts';
import { algorithmRank, type SigningAlgorithm } from './signing-algorithm.ts';

/** what atproto servers must support; assumed when a server advertises no list. */
const DEFAULT_SERVER_ALGORITHMS: readonly string[] = ['ES256'];

/**
 * picks the algorithm to sign with: the most preferred of ours (ES256 first) that the server
 * lists. `supported` is the server's `*_signing_alg_values_supported`; when absent, ES256.
 * @param purpose what the key is for, to name it in the error (e.g. "DPoP proofs")
 */
export const negotiateAlgorithm = (
	available: readonly SigningAlgorithm[],
	supported: readonly string[] | undefined,
	purpose: string,
): SigningAlgorithm => {
	const theirs = supported ?? DEFAULT_SERVER_ALGORITHMS;
	const ours = [...available].sort((a, b) => algorithmRank(a) - algorithmRank(b));

	for (const alg of ours) {
		if (theirs.includes(alg)) {
			return alg;
		}
	}
	throw new NoCompatibleKeyError(
		`no algorithm for ${purpose} is accepted by the server: we have ${ours.join(', ') || 'none'}, ` +
			`it accepts ${theirs.join(', ') || 'none'}`,
		ours,
		theirs,
	);
};
