// the tail of a domain label: up to 62 more letters, digits and hyphens, never ending in a hyphen
const LABEL_TAIL = '(?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';

// a reversed domain authority of at least two labels (the first starts with a letter), then the
// name: a letter followed by up to 62 letters and digits
const NSID_RE = new RegExp(
	`^[a-zA-Z]${LABEL_TAIL}(?:\\.[a-zA-Z0-9]${LABEL_TAIL})+\\.[a-zA-Z][a-zA-Z0-9]{0,62}$`,
);

/** the longest NSID: a 253-character authority, a dot and a 63-character name. */
const NSID_MAX_LENGTH = 253 + 1 + 63;

/**
 * whether `value` is a syntactically valid NSID (`com.example.fooBar`).
 * @see https://atproto.com/specs/nsid#nsid-syntax
 */
export const isNsid = (value: string): boolean => {
	return value.length <= NSID_MAX_LENGTH && NSID_RE.test(value);
};

/** whether `value` is an NSID or `*` (a repo collection or an rpc method). */
export const isNsidOrStar = (value: string): boolean => value === '*' || isNsid(value);

/** what `isNsidOrStar` accepts, for the message of a value it refused. */
export const NSID_OR_STAR = 'an NSID or "*" (partial wildcards such as "com.example.*" are not allowed)';
