import { InvalidKeyError } from './errors.ts';
import type { SigningKey } from './signing-key.ts';

/**
 * a client's private key: a signing key with the `kid` it is published under. what
 * `generatePrivateKey`, `importJwkKey` and `importPkcs8Key` return, and what a `Keyset` holds.
 */
export interface PrivateKey extends SigningKey {
	/** the key id, unique in its keyset; the server finds the key to verify with by it. */
	readonly kid: string;
}

/** the longest `kid` we accept: a key id is a short label, not a document. */
const MAX_KID_LENGTH = 256;

const describeType = (value: unknown): string =>
	value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;

/** what is wrong with a string `kid`, without repeating it, or undefined when it is usable. */
const kidProblem = (kid: string): string | undefined => {
	if (kid === '') return 'is empty';
	if (kid.length > MAX_KID_LENGTH) {
		return `is ${kid.length} characters long; at most ${MAX_KID_LENGTH} are allowed`;
	}
	for (let i = 0; i < kid.length; i++) {
		const code = kid.charCodeAt(i);
		if (code < 0x20 || code === 0x7f) {
			return `holds a control character (such as a line break) at position ${i}; a stray newline from a file or environment variable?`;
		}
		if (code > 0x7e) {
			return `holds a non-ASCII character at position ${i}; only printable ASCII is allowed`;
		}
	}
	if (kid[0] === ' ' || kid[kid.length - 1] === ' ') return 'starts or ends with a space';
	return undefined;
};

/**
 * checks that `kid` is a usable key id and returns it: 1 to 256 characters of printable ASCII
 * (0x20-0x7E), no leading or trailing space.
 */
export const checkKid = (kid: unknown): string => {
	// without a kid the server cannot tell which published key signed an assertion
	if (kid === undefined) {
		throw new InvalidKeyError('missing_kid', 'the key has no "kid"; give one in the JWK or in the options');
	}
	// the type alone: a misplaced value here may be the private JWK itself
	if (typeof kid !== 'string') {
		throw new InvalidKeyError('missing_kid', `the key's "kid" must be a string, got ${describeType(kid)}`);
	}
	// the kid is published and sent in every assertion header; the message does not repeat it, as
	// a bad one may be something pasted by mistake (a key, a token)
	const problem = kidProblem(kid);
	if (problem !== undefined) {
		throw new InvalidKeyError(
			'missing_kid',
			`the key's "kid" ${problem} (a kid is 1-${MAX_KID_LENGTH} printable ASCII characters, no surrounding spaces)`,
		);
	}
	return kid;
};

/** attaches a (checked) `kid` to a signing key. */
export const toPrivateKey = (key: SigningKey, kid: string): PrivateKey => {
	return Object.freeze({ ...key, kid: checkKid(kid) });
};
