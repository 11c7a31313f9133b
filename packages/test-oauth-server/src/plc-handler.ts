import { didDocument } from './accounts.ts';
import type { Handler } from './internal/http.ts';
import { HttpError } from './internal/http-error.ts';
import { Exchange, type ServerContext } from './server-context.ts';

/** the fake PLC directory: `GET /<did>` answers the DID document of an account. */
export const createPlcHandler = (ctx: ServerContext): Handler => {
	return async (req, res) => {
		const url = new URL(req.url ?? '/', ctx.urls.plc);
		const exchange = new Exchange(ctx, 'plc', req, res, url);
		try {
			await ctx.delay(ctx.behaviour.didDocumentDelayMs);
			if (ctx.behaviour.didDocumentFailure === 'network') {
				exchange.destroy();
				return;
			}
			if (ctx.behaviour.didDocumentFailure === 'status_503') {
				throw new HttpError(503, 'ServiceUnavailable', 'directory unavailable (behaviour)', 'misbehaviour');
			}
			if (req.method !== 'GET') {
				throw new HttpError(405, 'MethodNotAllowed', `${req.method} not allowed`);
			}
			const did = decodeURIComponent(url.pathname.slice(1));
			const account = ctx.accounts.get(did);
			if (account === undefined) {
				throw new HttpError(404, 'NotFound', `DID not registered: ${did}`);
			}
			const document = didDocument(account, ctx.urls.pds);
			exchange.text(
				200,
				ctx.behaviour.didDocumentContentType ?? 'application/json',
				JSON.stringify(document),
			);
		} catch (err) {
			exchange.fail(err);
		}
	};
};
