import type { IncomingMessage, ServerResponse } from 'node:http';

import type { AccessTokenSigner } from './access-token-signer.ts';
import type { AccountStore } from './accounts.ts';
import type { TestServerBehaviour } from './behaviour.ts';
import type { ClientRegistry } from './client-registry.ts';
import { BodyTooLargeError, isWritable, sendJson, sendText } from './internal/http.ts';
import { dpopChallenge, HttpError } from './internal/http-error.ts';
import { randomBase64url } from './internal/random.ts';
import type { ResolvedOptions } from './options.ts';
import type { RequestRecord, ServerRole, TestServerStats } from './stats.ts';
import type { TokenStore } from './token-store.ts';

/** the state the three servers share. */
export interface ServerContext {
	readonly options: ResolvedOptions;
	readonly behaviour: TestServerBehaviour;
	readonly stats: TestServerStats;
	/** the three origins, filled in once the servers listen. */
	readonly urls: { plc: string; pds: string; issuer: string };
	readonly accounts: AccountStore;
	readonly clients: ClientRegistry;
	readonly tokens: TokenStore;
	readonly signer: AccessTokenSigner;
	/** the nonce each DPoP-checking server currently demands. */
	readonly nonces: { as: string; pds: string };
	/** the proof `jti`s each server has seen. */
	readonly seenProofJtis: { as: Set<string>; pds: Set<string> };
	/** the `client_id` and `jti` pairs of client assertions seen. */
	readonly seenAssertionJtis: Set<string>;
	/** the server clock in milliseconds: the host clock plus `behaviour.clockSkewSeconds`. */
	now(): number;
	/** waits `ms` milliseconds (nothing when undefined or 0); cut short by `close()`. */
	delay(ms: number | undefined): Promise<void>;
}

/** a new nonce. */
export const newNonce = (): string => randomBase64url(16);

/**
 * one request being answered: records it in `stats.requests`, adds the headers every answer of
 * its server carries (`Date` on the server clock, `DPoP-Nonce` on the PDS and the authorization
 * server), and turns errors into answers in its server's format.
 */
export class Exchange {
	readonly record: RequestRecord;

	constructor(
		readonly ctx: ServerContext,
		readonly role: ServerRole,
		readonly req: IncomingMessage,
		readonly res: ServerResponse,
		readonly url: URL,
	) {
		this.record = {
			server: role,
			method: req.method ?? '',
			path: url.pathname,
			status: 0,
			proof: undefined,
			jkt: undefined,
			clientId: undefined,
			error: undefined,
			body: undefined,
			at: ctx.now(),
		};
		ctx.stats.requests.push(this.record);
	}

	/** the headers of every answer, plus `extra`. */
	headers(extra: Record<string, string> = {}): Record<string, string> {
		const headers: Record<string, string> = { date: new Date(this.ctx.now()).toUTCString() };
		if (this.role !== 'plc' && !this.ctx.behaviour.omitDpopNonceHeader) {
			headers['dpop-nonce'] = this.ctx.nonces[this.role];
		}
		return { ...headers, ...extra };
	}

	/** answers with JSON. */
	json(status: number, body: unknown, extra?: Record<string, string>): void {
		this.record.status = status;
		sendJson(this.res, status, body, this.headers(extra));
	}

	/** answers with a body of the given type. */
	text(status: number, contentType: string, text: string, extra?: Record<string, string>): void {
		this.record.status = status;
		sendText(this.res, status, contentType, text, this.headers(extra));
	}

	/** answers with a redirect. */
	redirect(status: number, location: string): void {
		this.record.status = status;
		if (!isWritable(this.res)) return;
		this.res.writeHead(status, this.headers({ location, 'content-length': '0' }));
		this.res.end();
	}

	/** destroys the socket without an answer (a network failure). */
	destroy(): void {
		this.record.status = 0;
		this.req.socket.destroy();
	}

	/** records an error answer; rejections also go to `stats.rejections`. */
	#note(err: HttpError): void {
		this.record.error = err.error;
		if (err.kind === 'nonce') {
			this.record.proof = 'nonce';
			if (this.role !== 'plc') this.ctx.stats.nonceRetries[this.role] += 1;
		} else if (err.kind === 'rejection') {
			if (err.error === 'invalid_dpop_proof') {
				this.record.proof = this.req.headers.dpop === undefined ? 'missing' : 'invalid';
			}
			this.ctx.stats.rejections.push({
				server: this.role,
				method: this.record.method,
				path: this.record.path,
				status: err.status,
				error: err.error,
				reason: err.description,
				at: this.ctx.now(),
			});
		}
	}

	/** answers an error: `HttpError`s in the server's format, anything else as a 500. */
	fail(err: unknown): void {
		const error =
			err instanceof HttpError
				? err
				: err instanceof BodyTooLargeError
					? new HttpError(413, 'invalid_request', err.message)
					: new HttpError(500, 'server_error', `test server bug: ${String((err as Error)?.stack ?? err)}`);
		this.#note(error);

		if (this.role === 'as') {
			this.json(error.status, { error: error.error, error_description: error.description }, error.headers);
		} else if (this.role === 'pds') {
			this.json(error.status, { error: error.error, message: error.description }, error.headers);
		} else {
			this.json(error.status, { message: error.description }, error.headers);
		}
	}

	/** answers an error as an HTML page (the authorization page has no JSON). */
	failPage(err: unknown): void {
		if (!(err instanceof HttpError)) {
			this.fail(err);
			return;
		}
		this.#note(err);
		const html = `<!doctype html><title>${err.error}</title><h1>${escapeHtml(err.error)}</h1><p>${escapeHtml(err.description)}</p>`;
		this.text(err.status, 'text/html; charset=utf-8', html);
	}
}

/** escapes text for HTML. */
export const escapeHtml = (text: string): string => {
	return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
};

/** a 401 `invalid_token` of the resource server, with its `WWW-Authenticate` challenge. */
export const invalidToken = (
	ctx: ServerContext,
	description: string,
	kind: 'rejection' | 'misbehaviour' = 'rejection',
): HttpError => {
	return new HttpError(401, 'invalid_token', description, kind, {
		'www-authenticate': dpopChallenge('invalid_token', description, ctx.options.dpopSigningAlgs),
	});
};
