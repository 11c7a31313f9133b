/**
 * the nonce of a response's `DPoP-Nonce` header, if any. a nonce is 1*NQCHAR, which has no space
 * (RFC 9449 §8.1), so a value with ", " in it is the header sent more than once (a proxy adding it
 * again), joined by `Headers`: the last one is the nonce, as a header set twice is read. sent as
 * it is, the joined value would be refused, and learnt again, on every request. an empty header
 * (`Headers` strips surrounding whitespace) is no nonce either: storing it would replace a good one.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8.1
 */
export const dpopNonceOf = (headers: Headers): string | undefined => {
	const value = headers.get('dpop-nonce');
	if (!value) return undefined;
	const joined = value.lastIndexOf(', ');
	return joined === -1 ? value : value.slice(joined + 2) || undefined;
};
