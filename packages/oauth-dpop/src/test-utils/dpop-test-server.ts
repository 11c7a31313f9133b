import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { EmbeddedJWK, type JWTPayload, jwtVerify, type ProtectedHeaderParameters } from 'jose';

/** every JWS algorithm a DPoP key of ours may use. */
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];

/** one request as the server saw it. */
export interface RecordedRequest {
	method: string;
	/** the path without the query. */
	path: string;
	/** the query with its leading `?`, or `''`. */
	query: string;
	headers: IncomingHttpHeaders;
	body: string;
	/** the verified proof claims; undefined when the proof was refused (see `proofError`). */
	proof: JWTPayload | undefined;
	/** the verified proof header. */
	proofHeader: ProtectedHeaderParameters | undefined;
	/** why the proof was refused, when it was. */
	proofError: string | undefined;
	/** the status the server answered with. */
	status: number;
}

/**
 * a server that plays both atproto roles and checks DPoP proofs the way the reference server does.
 * paths containing `/oauth/` act as an authorization server (400 JSON `use_dpop_nonce`), paths
 * containing `/xrpc/` as a resource server (401 `WWW-Authenticate: DPoP`). a path starting with
 * `/always/` rotates the nonce before every check, so it always refuses the nonce; one starting
 * with `/big/` answers 400 with a 20 KiB `use_dpop_nonce` JSON body.
 */
export interface DpopTestServer {
	/** `http://127.0.0.1:<port>` */
	readonly origin: string;
	/** every request received, in order. */
	readonly requests: RecordedRequest[];
	/** the nonce the server currently demands. */
	readonly nonce: string;
	/** when set, a successful response carries a new nonce (announced in its `DPoP-Nonce`). */
	rotateOnSuccess: boolean;
	/** the server clock for checking `iat` and for the `Date` header, in milliseconds. */
	clock: () => number;
	/** when false, answers carry no `Date` header (as a server may leave it out). default true. */
	sendDate: boolean;
	/** switches to a new nonce and returns it. */
	rotateNonce(): string;
	/** forgets the recorded requests (not the seen jtis). */
	clearRequests(): void;
	close(): Promise<void>;
}

const randomNonce = (): string => randomBytes(16).toString('base64url');

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

const readBody = async (req: IncomingMessage): Promise<string> => {
	const chunks: Buffer[] = [];
	for await (const chunk of req) {
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks).toString('utf8');
};

const sendJson = (
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void => {
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(JSON.stringify(body));
};

/** starts a DPoP checking server on 127.0.0.1 with a free port. */
/** how the server differs from the usual one. */
export interface DpopTestServerOptions {
	/** makes each nonce the server demands; default 16 random bytes in base64url. */
	newNonce?: () => string;
}

export const startDpopTestServer = async (options: DpopTestServerOptions = {}): Promise<DpopTestServer> => {
	const newNonce = options.newNonce ?? randomNonce;
	const requests: RecordedRequest[] = [];
	const seenJtis = new Set<string>();
	let nonce = newNonce();
	let origin = '';

	const state: DpopTestServer = {
		get origin() {
			return origin;
		},
		requests,
		get nonce() {
			return nonce;
		},
		rotateOnSuccess: false,
		clock: Date.now,
		sendDate: true,
		rotateNonce() {
			nonce = newNonce();
			return nonce;
		},
		clearRequests() {
			requests.length = 0;
		},
		close() {
			return new Promise<void>((resolve, reject) => {
				server.close((err) => (err ? reject(err) : resolve()));
				server.closeAllConnections();
			});
		},
	};

	/** verifies the proof like the reference server; returns its claims or why it was refused. */
	const verifyProof = async (
		req: IncomingMessage,
		path: string,
	): Promise<{ payload: JWTPayload; header: ProtectedHeaderParameters } | string> => {
		const proof = req.headers.dpop;
		if (typeof proof !== 'string') return 'missing or repeated DPoP header';

		let payload: JWTPayload;
		let header: ProtectedHeaderParameters;
		try {
			({ payload, protectedHeader: header } = await jwtVerify(proof, EmbeddedJWK, {
				typ: 'dpop+jwt',
				algorithms: ALGORITHMS,
				maxTokenAge: 60,
				currentDate: new Date(state.clock()),
			}));
		} catch (err) {
			return `invalid proof: ${(err as Error).message}`;
		}

		if (payload.htm !== req.method) return `htm ${String(payload.htm)} is not ${req.method}`;
		if (payload.htu !== origin + path) return `htu ${String(payload.htu)} is not ${origin + path}`;
		if (typeof payload.jti !== 'string' || payload.jti === '') return 'missing jti';
		if (seenJtis.has(payload.jti)) return `replayed jti ${payload.jti}`;
		seenJtis.add(payload.jti);

		const authorization = req.headers.authorization;
		if (authorization !== undefined && /^dpop /i.test(authorization)) {
			const expected = sha256(authorization.slice(5).trim());
			if (payload.ath !== expected) return `ath ${String(payload.ath)} is not ${expected}`;
		} else if (payload.ath !== undefined) {
			return 'ath without a DPoP access token';
		}
		return { payload, header };
	};

	const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
		const url = new URL(req.url ?? '/', origin);
		const path = url.pathname;
		const body = await readBody(req);
		const record: RecordedRequest = {
			method: req.method ?? '',
			path,
			query: url.search,
			headers: req.headers,
			body,
			proof: undefined,
			proofHeader: undefined,
			proofError: undefined,
			status: 0,
		};
		requests.push(record);

		// the Date header on the server clock, as a server whose clock differs from ours sends it
		if (state.sendDate) res.setHeader('date', new Date(state.clock()).toUTCString());
		else res.sendDate = false;
		const reply = (status: number, payload: unknown, headers?: Record<string, string>): void => {
			record.status = status;
			sendJson(res, status, payload, headers);
		};

		if (path.startsWith('/plain/')) {
			if (path === '/plain/challenge') {
				reply(
					401,
					{ error: 'use_dpop_nonce' },
					{ 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'nonce-of-another-origin' },
				);
			} else {
				reply(200, { ok: true, method: req.method, path, body });
			}
			return;
		}

		const verified = await verifyProof(req, path);
		if (typeof verified === 'string') {
			record.proofError = verified;
			if (path.includes('/xrpc/')) {
				// a resource server's refusal: a 401 challenge
				reply(
					401,
					{ error: 'invalid_dpop_proof', message: verified },
					{
						'www-authenticate': `DPoP error="invalid_dpop_proof", error_description="${verified.replace(/"/g, "'")}"`,
					},
				);
			} else {
				reply(400, { error: 'invalid_dpop_proof', error_description: verified });
			}
			return;
		}
		record.proof = verified.payload;
		record.proofHeader = verified.header;

		if (path.startsWith('/big/')) {
			// a use_dpop_nonce error padded past what a client should read of an error body
			reply(400, { error: 'use_dpop_nonce', padding: 'x'.repeat(20 * 1024) }, { 'dpop-nonce': nonce });
			return;
		}

		const resourceServer = path.includes('/xrpc/');
		if (path.startsWith('/always/')) {
			state.rotateNonce();
		}

		if (verified.payload.nonce !== nonce) {
			if (resourceServer) {
				reply(
					401,
					{ error: 'use_dpop_nonce', message: 'Resource server requires nonce in DPoP proof' },
					{
						'www-authenticate':
							'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
						'dpop-nonce': nonce,
					},
				);
			} else {
				reply(
					400,
					{
						error: 'use_dpop_nonce',
						error_description: 'Authorization server requires nonce in DPoP proof',
					},
					{ 'dpop-nonce': nonce },
				);
			}
			return;
		}

		if (path.startsWith('/redirect/')) {
			record.status = Number(path.split('/')[2]);
			res.writeHead(record.status, { location: url.searchParams.get('to') ?? '', 'dpop-nonce': nonce });
			res.end('moved');
			return;
		}

		if (state.rotateOnSuccess) {
			state.rotateNonce();
		}
		reply(200, { ok: true, method: req.method, path, query: url.search, body }, { 'dpop-nonce': nonce });
	};

	const server = createServer((req, res) => {
		handle(req, res).catch((err: unknown) => {
			res.writeHead(500, { 'content-type': 'text/plain' });
			res.end(String(err));
		});
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			server.off('error', reject);
			resolve();
		});
	});
	origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

	return state;
};
