import { isEnvelopeLike } from './envelope.ts';

/**
 * the expiry to give an entry the wrapper writes back as it read it (`take` putting back what it
 * could not return, `rewrap` re-encrypting), since the `Store` interface cannot tell an entry's
 * expiry: an envelope's `exp`; for a plaintext entry, its own `expiresAt`, which is how the OAuth
 * client stores authorization states (set with `{ expiresAt: state.expiresAt }`). sessions have
 * neither, and are stored without one. `undefined` when it has none that is a finite number.
 */
export const expiryOf = (raw: unknown): number | undefined => {
	if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
	const exp = isEnvelopeLike(raw) ? raw.exp : (raw as { expiresAt?: unknown }).expiresAt;
	return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
};
