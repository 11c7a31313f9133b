import { authenticateClient, type ClientAuth } from './client-auth.ts';
import type { ResolvedClient } from './client-metadata.ts';
import type { VerifiedProof } from './dpop.ts';
import { HttpError } from './internal/http-error.ts';
import type { Exchange, ServerContext } from './server-context.ts';
import { verifyRequestProof } from './verify-request-proof.ts';

/** a request to an authorization server endpoint whose proof and client both checked out. */
export interface AuthenticatedRequest {
	proof: VerifiedProof;
	client: ResolvedClient;
	auth: ClientAuth;
}

/**
 * checks what every authorization server endpoint (PAR, token, revoke) requires, in the
 * reference server's order: the DPoP proof (so a nonce challenge spends no assertion), then the
 * client authentication, then that the two keys differ.
 */
export const authenticateAsRequest = async (
	ctx: ServerContext,
	exchange: Exchange,
	params: ReadonlyMap<string, string>,
): Promise<AuthenticatedRequest> => {
	const { record } = exchange;
	record.clientId = params.get('client_id');

	const proof = await verifyRequestProof(ctx, exchange, 'as', undefined);

	const { client, auth } = await authenticateClient(params, {
		clients: ctx.clients,
		issuer: ctx.urls.issuer,
		algorithms: ctx.options.authSigningAlgs,
		now: ctx.now(),
		seenJtis: ctx.seenAssertionJtis,
	});
	if (auth.method === 'private_key_jwt') {
		ctx.stats.verifiedAssertions += 1;
		// clients must not sign DPoP proofs with their client assertion key
		if (auth.jkt === proof.jkt) {
			throw new HttpError(
				400,
				'invalid_request',
				'The DPoP proof must be signed with a different key than the client assertion',
			);
		}
	}
	return { proof, client, auth };
};
