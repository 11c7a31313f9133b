import { authenticateAsRequest } from './as-request.ts';
import { sameClientAuth } from './client-auth.ts';
import { HttpError } from './internal/http-error.ts';
import type { Exchange, ServerContext } from './server-context.ts';

/** the errors of a DPoP proof: the one failure the reference server's revocation answers as such. */
const PROOF_ERRORS: ReadonlySet<string> = new Set(['use_dpop_nonce', 'invalid_dpop_proof']);

/**
 * `POST /oauth/revoke` (RFC 7009): any token of a session (access token, current or old refresh
 * token, code) ends the whole session. answers 200 `{}` for unknown tokens too; a token of
 * another client or key is left alone and recorded as a rejection. as at the reference server,
 * only a DPoP proof's failure is answered as an error: a client authentication it refuses (a
 * clock ahead of the server's, an unknown key) revokes nothing and answers 200 `{}` all the same,
 * recorded as a rejection (RFC 7009 §2.2: the client could do nothing with such an error).
 */
export const revokeEndpoint = async (
	ctx: ServerContext,
	exchange: Exchange,
	params: ReadonlyMap<string, string>,
): Promise<void> => {
	const { behaviour } = ctx;
	await ctx.delay(behaviour.revokeDelayMs);
	if (behaviour.revokeFailure === 'network') {
		exchange.destroy();
		return;
	}
	if (behaviour.revokeFailure === 'status_503') {
		throw new HttpError(503, 'temporarily_unavailable', 'Service unavailable (behaviour)', 'misbehaviour');
	}

	const token = params.get('token');
	if (token === undefined || token === '') {
		throw new HttpError(400, 'invalid_request', '"token" is required');
	}
	let authenticated: Awaited<ReturnType<typeof authenticateAsRequest>>;
	try {
		authenticated = await authenticateAsRequest(ctx, exchange, params);
	} catch (err) {
		if (!(err instanceof HttpError) || PROOF_ERRORS.has(err.error)) throw err;
		ctx.stats.rejections.push({
			server: 'as',
			method: exchange.record.method,
			path: exchange.record.path,
			status: 200,
			error: err.error,
			reason: `revocation ignored: ${err.description}`,
			at: ctx.now(),
		});
		// not counted in `stats.revoke`: a test counting revocations counts those the server took
		exchange.json(200, {}, { 'cache-control': 'no-store' });
		return;
	}
	const { client, auth } = authenticated;

	const session = ctx.tokens.sessionOfToken(token);
	if (session !== undefined) {
		const mismatch =
			session.clientId !== client.clientId
				? 'Token was not issued to this client'
				: sameClientAuth(session.clientAuth, auth);
		if (mismatch !== undefined) {
			ctx.stats.rejections.push({
				server: 'as',
				method: exchange.record.method,
				path: exchange.record.path,
				status: 200,
				error: 'invalid_grant',
				reason: `revocation ignored: ${mismatch}`,
				at: ctx.now(),
			});
		} else if (ctx.tokens.revoke(session, 'revoked by the client')) {
			ctx.stats.revokedSessions += 1;
		}
	}

	ctx.stats.revoke += 1;
	exchange.json(200, {}, { 'cache-control': 'no-store' });
};
