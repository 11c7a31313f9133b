/**
 * whether `response` is another origin's than `origin`, the one asked: a redirect the fetch
 * followed whatever `redirect` said (an app's wrapper, an egress proxy) ended elsewhere. its nonce,
 * `Date` and refusals say nothing of `origin`. an empty `url` is a response made by hand, taken as
 * the origin's. shared by the DPoP fetch and the client's PDS nonce sightings.
 */
export const answeredElsewhere = (response: Response, origin: string): boolean =>
	response.redirected && response.url !== '' && !response.url.startsWith(`${origin}/`);
