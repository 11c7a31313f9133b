import { type CreateSigner, createWebCryptoSigner } from '@atcute/oauth-keys';

/**
 * a signer that counts the stored DPoP keys imported (`imports`, by their private scalar), each
 * then imported by WebCrypto as without it: a key asked for again while the client keeps it in
 * memory is not imported again.
 */
export const countingSigner = (): { createSigner: CreateSigner; imports: Map<string, number> } => {
	const imports = new Map<string, number>();
	const createSigner: CreateSigner = Object.assign(
		(...args: Parameters<CreateSigner>) => createWebCryptoSigner(...args),
		{
			fromJwk: (params: { d?: string }) => {
				imports.set(params.d!, (imports.get(params.d!) ?? 0) + 1);
				// WebCrypto imports it
				return undefined;
			},
		},
	);
	return { createSigner, imports };
};
