import type { Did } from '@atcute/lexicons';
import type { AuthorizationServerMetadata } from '@atcute/oauth-discovery';
import type { Keyset, PrivateKey, Sha256Function } from '@atcute/oauth-keys';

import { AuthMethodUnsatisfiableError } from '../errors.ts';
import type { ClientAuthMethod } from '../stored-types.ts';

/** the client authentication chosen for a new authorization, and the key it signs with. */
export interface NegotiatedClientAuth {
	authMethod: ClientAuthMethod;
	clientKey: PrivateKey | undefined;
}

/** the keyset's keys' RFC 7638 thumbprints, by `kid` (a key of a type without one is missing). */
export type ClientKeyThumbprints = ReadonlyMap<string, string>;

/** the members of a public JWK its RFC 7638 thumbprint covers, by `kty`, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
	EC: ['crv', 'kty', 'x', 'y'],
	RSA: ['e', 'kty', 'n'],
	OKP: ['crv', 'kty', 'x'],
};

/**
 * the RFC 7638 thumbprints of a keyset's public keys, by `kid`: what a session records of the key
 * it signed in with, so that new key material given an old `kid` is told apart.
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 */
export const thumbprintKeyset = async (
	keyset: Keyset | undefined,
	sha256: Sha256Function,
): Promise<ClientKeyThumbprints> => {
	const thumbprints = new Map<string, string>();
	for (const key of keyset ?? []) {
		const jwk = key.publicJwk as unknown as Record<string, unknown>;
		const members = THUMBPRINT_MEMBERS[String(jwk.kty)];
		if (members === undefined) continue;
		// the required members only, in that order, as JSON without spaces
		const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
		thumbprints.set(key.kid, await sha256(canonical));
	}
	return thumbprints;
};

/** the client authentication of a sign-in signed with `key`: its `kid`, and its thumbprint when known. */
export const boundAuthMethod = (key: PrivateKey, thumbprints: ClientKeyThumbprints): ClientAuthMethod => {
	const jkt = thumbprints.get(key.kid);
	return jkt === undefined
		? { method: 'private_key_jwt', kid: key.kid }
		: { method: 'private_key_jwt', kid: key.kid, jkt };
};

/**
 * picks how to authenticate to a server for a new authorization: `private_key_jwt` with a key
 * the server accepts (ES256, the one algorithm our metadata declares), or `none` for a loopback
 * client. the choice is pinned for the session's lifetime.
 * @see https://atproto.com/specs/oauth#confidential-client-authentication
 */
export const negotiateClientAuth = (
	keyset: Keyset | undefined,
	server: AuthorizationServerMetadata,
	thumbprints: ClientKeyThumbprints,
): NegotiatedClientAuth => {
	if (keyset === undefined) {
		return { authMethod: { method: 'none' }, clientKey: undefined };
	}
	// the metadata declares ES256 as its one assertion algorithm
	const supported = server.token_endpoint_auth_signing_alg_values_supported?.filter(
		(alg) => alg === 'ES256',
	) ?? ['ES256'];
	const clientKey = keyset.negotiate(supported);
	return { authMethod: boundAuthMethod(clientKey, thumbprints), clientKey };
};

/**
 * the keys a sign-in falls back to, in turn, when the server refuses `chosen` at the pushed
 * authorization request: the keyset's other keys of its algorithm, in preference order. a server
 * that has not read the JWKS again since a new key went first refuses the new key and takes an
 * older one.
 */
export const fallbackClientKeys = (keyset: Keyset | undefined, chosen: PrivateKey): PrivateKey[] =>
	keyset === undefined ? [] : [...keyset].filter((key) => key !== chosen && key.alg === chosen.alg);

/**
 * the key a session (or authorization attempt) pinned. the same key for every request of a
 * session: a session whose key left the keyset, or whose `kid` now names other key material (the
 * server holds its grant to the key it signed in with), can never authenticate again.
 * @see https://atproto.com/specs/oauth#confidential-client-authentication
 * @param thumbprints the keyset's (see `thumbprintKeyset`); without them, the `kid` alone binds
 * @param options `signIn`: for a sign-in's callback (the error's message says so)
 * @throws {AuthMethodUnsatisfiableError} when the pinned key is no longer in the keyset, or has
 *   another thumbprint there (`replaced`)
 */
export const pinnedClientKey = (
	keyset: Keyset | undefined,
	authMethod: ClientAuthMethod,
	did: Did | undefined,
	thumbprints: ClientKeyThumbprints | undefined,
	options?: { signIn?: boolean },
): PrivateKey | undefined => {
	if (authMethod.method === 'none') return undefined;
	const key = keyset?.get(authMethod.kid);
	if (key === undefined) {
		throw new AuthMethodUnsatisfiableError(did, authMethod.kid, options);
	}
	// new key material under the old kid: sent, it would be refused (invalid_grant) and the session
	// ended as if the user had been signed out; ended here, nothing is sent and the cause is said
	if (
		authMethod.jkt !== undefined &&
		thumbprints !== undefined &&
		thumbprints.get(authMethod.kid) !== authMethod.jkt
	) {
		throw new AuthMethodUnsatisfiableError(did, authMethod.kid, { ...options, replaced: true });
	}
	return key;
};
