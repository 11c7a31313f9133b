import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

import { randomHex } from './internal/random.ts';

/** what an access token says; the server also keeps it, so clients may treat tokens as opaque. */
export interface AccessTokenClaims {
	sub: string;
	/** the PDS. */
	aud: string;
	scope: string;
	clientId: string;
	/** the DPoP key thumbprint it is bound to. */
	jkt: string;
	/** seconds since the epoch. */
	iat: number;
	/** seconds since the epoch. */
	exp: number;
}

/** signs access tokens as JWTs, like the reference server, with a key made at startup. */
export interface AccessTokenSigner {
	/** the public key, served at `/oauth/jwks`. */
	readonly publicJwk: JWK;
	/** a new signed access token. */
	mint(claims: AccessTokenClaims): Promise<string>;
}

/** makes a signer with a new ES256 key. */
export const createAccessTokenSigner = async (issuer: () => string): Promise<AccessTokenSigner> => {
	const { privateKey, publicKey } = await generateKeyPair('ES256');
	const kid = randomHex('', 8);
	const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };

	return {
		publicJwk,
		mint(claims) {
			return new SignJWT({ scope: claims.scope, client_id: claims.clientId, cnf: { jkt: claims.jkt } })
				.setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
				.setIssuer(issuer())
				.setSubject(claims.sub)
				.setAudience(claims.aud)
				.setJti(randomHex('tok-', 16))
				.setIssuedAt(claims.iat)
				.setExpirationTime(claims.exp)
				.sign(privateKey);
		},
	};
};
