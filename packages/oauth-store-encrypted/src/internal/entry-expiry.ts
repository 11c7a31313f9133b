import { isEnvelopeLike } from './envelope.ts';

/**
 * the expiry of an entry as stored, since the `Store` interface cannot tell it: an envelope's
 * `exp`; for a plaintext entry, its own `expiresAt`, which is how the OAuth client stores
 * authorization states (set with `{ expiresAt: state.expiresAt }`). sessions have neither.
 * `take` puts back what it could not return with it; `rewrap` never rewrites an entry that has
 * one. `undefined` when it has none that is a finite number.
 */
export const expiryOf = (raw: unknown): number | undefined => {
	if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
	const exp = isEnvelopeLike(raw) ? raw.exp : (raw as { expiresAt?: unknown }).expiresAt;
	return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
};
