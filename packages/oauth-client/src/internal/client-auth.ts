import type { Did } from '@atcute/lexicons';
import type { AuthorizationServerMetadata } from '@atcute/oauth-discovery';
import type { Keyset, PrivateKey } from '@atcute/oauth-keys';

import { AuthMethodUnsatisfiableError } from '../errors.ts';
import type { ClientAuthMethod } from '../stored-types.ts';

/** the client authentication chosen for a new authorization, and the key it signs with. */
export interface NegotiatedClientAuth {
	authMethod: ClientAuthMethod;
	clientKey: PrivateKey | undefined;
}

/**
 * picks how to authenticate to a server for a new authorization: `private_key_jwt` with a key
 * the server accepts (ES256, the one algorithm our metadata declares), or `none` for a loopback
 * client. the choice is pinned for the session's lifetime.
 * @see https://atproto.com/specs/oauth#confidential-client-authentication
 */
export const negotiateClientAuth = (
	keyset: Keyset | undefined,
	server: AuthorizationServerMetadata,
): NegotiatedClientAuth => {
	if (keyset === undefined) {
		return { authMethod: { method: 'none' }, clientKey: undefined };
	}
	// the metadata declares ES256 as its one assertion algorithm
	const supported = server.token_endpoint_auth_signing_alg_values_supported?.filter(
		(alg) => alg === 'ES256',
	) ?? ['ES256'];
	const clientKey = keyset.negotiate(supported);
	return { authMethod: { method: 'private_key_jwt', kid: clientKey.kid }, clientKey };
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
 * session: a session whose key left the keyset can never authenticate again.
 * @see https://atproto.com/specs/oauth#confidential-client-authentication
 * @param options `signIn`: for a sign-in's callback (the error's message says so)
 * @throws {AuthMethodUnsatisfiableError} when the pinned key is no longer in the keyset
 */
export const pinnedClientKey = (
	keyset: Keyset | undefined,
	authMethod: ClientAuthMethod,
	did: Did | undefined,
	options?: { signIn?: boolean },
): PrivateKey | undefined => {
	if (authMethod.method === 'none') return undefined;
	const key = keyset?.get(authMethod.kid);
	if (key === undefined) {
		throw new AuthMethodUnsatisfiableError(did, authMethod.kid, options);
	}
	return key;
};
