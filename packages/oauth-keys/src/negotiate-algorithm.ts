import { NoCompatibleKeyError } from './errors.ts';
import { algorithmRank, type SigningAlgorithm } from './signing-algorithm.ts';

/** what atproto servers must support; assumed when a server advertises no list. */
const DEFAULT_SERVER_ALGORITHMS: readonly string[] = ['ES256'];

/** a list for a message: JSON, so that odd names stay readable and unambiguous; "none" when empty. */
const quote = (list: readonly string[]): string => (list.length === 0 ? 'none' : JSON.stringify(list));

/**
 * picks the algorithm to sign with: the most preferred of ours (ES256 first) that the server
 * lists. `supported` is the server's `*_signing_alg_values_supported`; when absent (`undefined` or
 * `null`), ES256. entries that are not strings are ignored.
 * @param purpose what the key is for, to name it in the error (e.g. "DPoP proofs")
 * @throws {TypeError} when `supported` is present but not an array
 * @throws {NoCompatibleKeyError} when the server lists none of our algorithms
 */
export const negotiateAlgorithm = (
	available: readonly SigningAlgorithm[],
	supported: readonly string[] | undefined,
	purpose: string,
): SigningAlgorithm => {
	const given: unknown = supported;
	if (given != null && !Array.isArray(given)) {
		// a string would otherwise be searched for substrings ("xES256x" accepting ES256)
		throw new TypeError(
			`the server's signing algorithm list for ${purpose} must be an array, got ${typeof given}`,
		);
	}
	const listed: readonly unknown[] = given ?? DEFAULT_SERVER_ALGORITHMS;
	const theirs = listed.filter((alg): alg is string => typeof alg === 'string');
	const ignored = listed.length - theirs.length;
	const ours = [...available].sort((a, b) => algorithmRank(a) - algorithmRank(b));

	for (const alg of ours) {
		if (theirs.includes(alg)) {
			return alg;
		}
	}
	throw new NoCompatibleKeyError(
		`no algorithm for ${purpose} is accepted by the server: we have ${quote(ours)}, ` +
			`it accepts ${quote(theirs)}` +
			(ignored === 0
				? ''
				: ` (${ignored} ${ignored === 1 ? 'entry that is not a string' : 'entries that are not strings'} ignored)`),
		ours,
		theirs,
	);
};
