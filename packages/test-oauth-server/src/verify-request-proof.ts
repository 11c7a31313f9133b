import { type VerifiedProof, verifyDpopProof } from './dpop.ts';
import { type Exchange, newNonce, type ServerContext } from './server-context.ts';

/**
 * verifies the DPoP proof of a request to the authorization server or the PDS against that
 * server's nonce and replay cache, records it, and rotates the nonce when told to.
 */
export const verifyRequestProof = async (
	ctx: ServerContext,
	exchange: Exchange,
	role: 'as' | 'pds',
	accessToken: string | undefined,
): Promise<VerifiedProof> => {
	const { req, url, record } = exchange;
	const proof = await verifyDpopProof(req, {
		role,
		method: req.method ?? '',
		htu: (role === 'as' ? ctx.urls.issuer : ctx.urls.pds) + url.pathname,
		accessToken,
		nonce: ctx.nonces[role],
		rejectEveryNonce: ctx.behaviour.rejectEveryNonce === true,
		algorithms: ctx.options.dpopSigningAlgs,
		now: ctx.now(),
		iatLeeway: ctx.options.iatLeeway,
		seenJtis: ctx.seenProofJtis[role],
	});
	record.proof = 'valid';
	record.jkt = proof.jkt;
	ctx.stats.verifiedProofs += 1;
	if (ctx.behaviour.rotateNonceEveryRequest) {
		ctx.nonces[role] = newNonce();
	}
	return proof;
};
