import { HttpError } from './internal/http-error.ts';
import { type Exchange, escapeHtml, type ServerContext } from './server-context.ts';
import { type AuthorizationRequest, TokenStore } from './token-store.ts';

/** the path the consent form posts to. */
export const CONSENT_PATH = '/oauth/authorize/consent';

const pageError = (description: string): HttpError => new HttpError(400, 'invalid_request', description);

/** the pending request a `client_id` and `request_uri` name; throws the error page to show. */
const findRequest = (
	ctx: ServerContext,
	clientId: string | null | undefined,
	requestUri: string | null | undefined,
): AuthorizationRequest => {
	if (!clientId) throw pageError('"client_id" is required');
	if (!requestUri) throw pageError('"request_uri" is required: this server requires PAR');
	const request = ctx.tokens.requests.get(requestUri);
	if (request === undefined) {
		throw pageError(`Unknown request_uri "${requestUri}"`);
	}
	if (request.clientId !== clientId) {
		throw pageError(`request_uri was pushed by "${request.clientId}", not "${clientId}"`);
	}
	if (request.used) {
		throw pageError('This request_uri was already used');
	}
	if (request.expiresAt <= ctx.now()) {
		throw pageError('This request_uri has expired');
	}
	return request;
};

/**
 * `GET /oauth/authorize?client_id&request_uri`: the sign-in and consent page. the URL must carry
 * only those two parameters (everything else went through PAR). answers a small HTML form.
 */
export const authorizationPage = (ctx: ServerContext, exchange: Exchange): void => {
	const query = exchange.url.searchParams;
	const extra = [...query.keys()].filter((name) => name !== 'client_id' && name !== 'request_uri');
	if (extra.length > 0) {
		throw pageError(
			`the authorization URL must carry only client_id and request_uri, also got: ${extra.join(', ')}`,
		);
	}
	const request = findRequest(ctx, query.get('client_id'), query.get('request_uri'));
	exchange.record.clientId = request.clientId;

	const html = `<!doctype html>
<title>Sign in</title>
<form method="post" action="${CONSENT_PATH}">
<input type="hidden" name="client_id" value="${escapeHtml(request.clientId)}">
<input type="hidden" name="request_uri" value="${escapeHtml(request.requestUri)}">
<p>${escapeHtml(request.clientId)} asks for: ${escapeHtml(request.scope)}</p>
<input name="did" value="${escapeHtml(request.loginHint ?? '')}">
<button name="decision" value="allow">Authorize</button>
<button name="decision" value="deny">Deny access</button>
</form>`;
	exchange.text(200, 'text/html; charset=utf-8', html);
};

/**
 * `POST /oauth/authorize/consent` (form: `client_id`, `request_uri`, `did`, `decision`, optional
 * `scope`): the user's answer. redirects to the client with `iss`, `state` and `code`, or with
 * `error=access_denied`, in the request's response mode.
 */
export const consent = (
	ctx: ServerContext,
	exchange: Exchange,
	params: ReadonlyMap<string, string>,
): void => {
	const request = findRequest(ctx, params.get('client_id'), params.get('request_uri'));
	exchange.record.clientId = request.clientId;
	const decision = params.get('decision');
	if (decision !== 'allow' && decision !== 'deny') {
		throw pageError('"decision" must be allow or deny');
	}

	const { behaviour } = ctx;
	const response = new URLSearchParams();
	if (!behaviour.omitIss) {
		response.set('iss', behaviour.issOverride ?? ctx.urls.issuer);
	}
	response.set('state', behaviour.stateOverride ?? request.state);

	if (decision === 'deny') {
		request.used = true;
		response.set('error', 'access_denied');
		response.set('error_description', 'Access denied');
		ctx.stats.denied += 1;
	} else {
		const did = params.get('did') ?? '';
		if (ctx.accounts.get(did) === undefined) {
			throw pageError(`no account with DID "${did}" (call server.createAccount)`);
		}
		let scope = request.scope;
		const granted = params.get('scope');
		if (granted !== undefined && granted !== '') {
			const requested = request.scope.split(' ');
			const narrowed = granted.split(' ').filter(Boolean);
			const outside = narrowed.filter((token) => !requested.includes(token));
			if (outside.length > 0) {
				throw pageError(`cannot grant scopes that were not requested: ${outside.join(' ')}`);
			}
			scope = narrowed.join(' ');
		}
		request.used = true;
		const code = TokenStore.newCode();
		ctx.tokens.codes.set(code, {
			code,
			request,
			did,
			scope,
			expiresAt: ctx.now() + ctx.options.codeTtl * 1000,
			used: false,
			sessionId: undefined,
		});
		response.set('code', code);
		ctx.stats.authorize += 1;
	}

	if (request.responseMode === 'form_post') {
		const inputs = [...response]
			.map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
			.join('\n');
		const html = `<!doctype html>
<title>Redirecting</title>
<form method="post" action="${escapeHtml(request.redirectUri)}">
${inputs}
</form>
<script>document.forms[0].submit()</script>`;
		exchange.text(200, 'text/html; charset=utf-8', html);
		return;
	}

	const location = new URL(request.redirectUri);
	if (request.responseMode === 'fragment') {
		location.hash = response.toString();
	} else {
		for (const [name, value] of response) location.searchParams.append(name, value);
	}
	exchange.redirect(303, location.href);
};
