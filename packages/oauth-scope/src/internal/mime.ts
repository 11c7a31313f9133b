// `type/subtype`: one slash, something on each side, printable ASCII without spaces. the reference
// implementation checks no more than this about the characters; we add printable ASCII, since a
// scope token is printable ASCII and a MIME type is too
const MEDIA_TYPE_RE = /^[\x21-\x2e\x30-\x7e]+\/[\x21-\x2e\x30-\x7e]+$/;

/** the pattern that accepts every media type. */
export const ANY_MEDIA_TYPE = '*/*';

/** whether `value` is a concrete media type (`image/png`): no wildcard anywhere. */
export const isMediaType = (value: string): boolean => {
	return MEDIA_TYPE_RE.test(value) && !value.includes('*');
};

/**
 * whether `value` is a blob `accept` pattern: a media type, `type/*` with a concrete type, or the
 * match-all pattern. partial globs (`ima*ge/*`, `text/ht*`, any other `*` in the type part) and a
 * lone `*` are not patterns: the lexicon spec does not support them. (the reference implementation
 * takes a `*` anywhere in the type part of `type/*`; we do not)
 * @see https://atproto.com/specs/lexicon#blob
 */
export const isAcceptPattern = (value: string): boolean => {
	if (value === ANY_MEDIA_TYPE) {
		return true;
	}
	if (!MEDIA_TYPE_RE.test(value)) {
		return false;
	}
	const star = value.indexOf('*');
	// no wildcard, or only the one that makes up the whole subtype
	return star === -1 || (star === value.length - 1 && value[star - 1] === '/');
};
