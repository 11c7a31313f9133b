/**
 * what every runtime's WebCrypto key has, for a program compiled without the DOM lib (Node's own
 * type definitions name no global `CryptoKey` type).
 */
export interface WebCryptoKeyShape {
	/** `private`, `public` or `secret`. */
	readonly type: 'private' | 'public' | 'secret';
	/** whether `crypto.subtle.exportKey` may read it. */
	readonly extractable: boolean;
	/** the algorithm it was made or imported for (`{ name: 'ECDSA', namedCurve: 'P-256' }`, ...). */
	readonly algorithm: { readonly name: string };
	/** what it may be used for: the same as `node:crypto`'s `webcrypto.CryptoKey`, so each fits the other. */
	readonly usages: (
		| 'decrypt'
		| 'deriveBits'
		| 'deriveKey'
		| 'encrypt'
		| 'sign'
		| 'unwrapKey'
		| 'verify'
		| 'wrapKey'
	)[];
}

/**
 * WebCrypto's `CryptoKey`: the global type where the program has one (the DOM lib, or Node's type
 * definitions from version 24, which give the global's prototype), else `WebCryptoKeyShape`. named
 * so, the types of this package compile in a Node program without `"lib": ["dom"]`.
 */
export type WebCryptoKey = typeof globalThis extends { CryptoKey: { prototype: infer K } }
	? K
	: WebCryptoKeyShape;
