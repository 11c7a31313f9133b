/**
 * the statuses a redirect is followed on (RFC 9110 §15.4): the other 3xx (300, 304, 305, ...) are
 * answers in themselves. shared by the DPoP fetch, the Node transport and the well-known handle
 * resolver, which each follow (or refuse) redirects themselves.
 */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
