/**
 * the public half of an elliptic-curve key, as a JWK.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.2.1
 */
export interface EcPublicJwk {
	/** the key type: `EC`. */
	kty: 'EC';
	/** the curve: `P-256` (ES256), `P-384` (ES384) or `P-521` (ES512). */
	crv: 'P-256' | 'P-384' | 'P-521';
	/** the point's x coordinate, base64url. */
	x: string;
	/** the point's y coordinate, base64url. */
	y: string;
}

/**
 * the public half of an RSA key, as a JWK.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.3.1
 */
export interface RsaPublicJwk {
	/** the key type: `RSA`. */
	kty: 'RSA';
	/** the modulus, base64url. */
	n: string;
	/** the public exponent, base64url (`AQAB` for 65537). */
	e: string;
}

/** a bare public JWK: key parameters only, no `kid`, `alg` or `use`. */
export type PublicJwk = EcPublicJwk | RsaPublicJwk;

/**
 * a public JWK as published in a JWKS: with `kid` (the key's id, which a client assertion's
 * header names), `alg` (the one algorithm it signs with) and `use: "sig"`.
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-4
 */
export type PublishedJwk = PublicJwk & { kid: string; alg: string; use: 'sig' };

/** a private elliptic-curve JWK. */
export interface EcPrivateJwk extends EcPublicJwk {
	/** the private key, base64url: a secret. */
	d: string;
}

/**
 * a private RSA JWK with its CRT parameters (each base64url; all secret).
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.3.2
 */
export interface RsaPrivateJwk extends RsaPublicJwk {
	/** the private exponent. */
	d: string;
	/** the first prime factor. */
	p: string;
	/** the second prime factor. */
	q: string;
	/** the first factor's CRT exponent. */
	dp: string;
	/** the second factor's CRT exponent. */
	dq: string;
	/** the first CRT coefficient. */
	qi: string;
}

/** a private JWK as `exportJwkKey` writes it: key parameters plus `kid` and `alg`. */
export type PrivateJwk = (EcPrivateJwk | RsaPrivateJwk) & { kid: string; alg: string };

/**
 * a JSON web key set.
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export interface Jwks<K = PublishedJwk> {
	/** the keys. */
	keys: K[];
}
