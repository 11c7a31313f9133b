/** the public half of an elliptic-curve key, as a JWK. */
export interface EcPublicJwk {
	kty: 'EC';
	crv: 'P-256' | 'P-384' | 'P-521';
	x: string;
	y: string;
}

/** the public half of an RSA key, as a JWK. */
export interface RsaPublicJwk {
	kty: 'RSA';
	n: string;
	e: string;
}

/** a bare public JWK: key parameters only, no `kid`, `alg` or `use`. */
export type PublicJwk = EcPublicJwk | RsaPublicJwk;

/** a public JWK as published in a JWKS: with `kid`, `alg` and `use: "sig"`. */
export type PublishedJwk = PublicJwk & { kid: string; alg: string; use: 'sig' };

/** a private elliptic-curve JWK. */
export interface EcPrivateJwk extends EcPublicJwk {
	d: string;
}

/** a private RSA JWK with its CRT parameters. */
export interface RsaPrivateJwk extends RsaPublicJwk {
	d: string;
	p: string;
	q: string;
	dp: string;
	dq: string;
	qi: string;
}

/** a private JWK as `exportJwkKey` writes it: key parameters plus `kid` and `alg`. */
export type PrivateJwk = (EcPrivateJwk | RsaPrivateJwk) & { kid: string; alg: string };

/** a JSON web key set. */
export interface Jwks<K = PublishedJwk> {
	keys: K[];
}
