import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** answers one request. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** a real HTTP server on 127.0.0.1 whose answers each test sets per path. */
export interface TestServer {
	/** `http://127.0.0.1:<port>` */
	readonly origin: string;
	/** answers requests for `path` (without query) with `handler`; unknown paths get a 404. */
	route(path: string, handler: Handler): void;
	/** how many requests `path` received; all paths when omitted. */
	count(path?: string): number;
	/** forgets every route and count. */
	reset(): void;
	/** closes every connection, then the server. */
	close(): Promise<void>;
}

/** sends `body` as JSON with `status` and extra headers. */
export const sendJson = (
	res: ServerResponse,
	body: unknown,
	status = 200,
	headers: Record<string, string> = {},
): void => {
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(JSON.stringify(body));
};

/** a handler that sends `body` as JSON. */
export const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Handler => {
	return (_req, res) => sendJson(res, body, status, headers);
};

/** starts a server on 127.0.0.1 with a free port. */
export const startTestServer = async (): Promise<TestServer> => {
	const routes = new Map<string, Handler>();
	const counts = new Map<string, number>();

	const server = createServer((req, res) => {
		const path = (req.url ?? '/').split('?')[0]!;
		counts.set(path, (counts.get(path) ?? 0) + 1);
		const handler = routes.get(path);
		if (handler === undefined) {
			res.writeHead(404, { 'content-type': 'text/plain' });
			res.end('not found');
			return;
		}
		handler(req, res);
	});

	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;

	return {
		origin: `http://127.0.0.1:${port}`,
		route(path, handler) {
			routes.set(path, handler);
		},
		count(path) {
			if (path !== undefined) return counts.get(path) ?? 0;
			let total = 0;
			for (const n of counts.values()) total += n;
			return total;
		},
		reset() {
			routes.clear();
			counts.clear();
		},
		close() {
			// slow and endless handlers keep connections open: cut them
			server.closeAllConnections();
			return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
		},
	};
};

/** the origin of a port that was just closed, so connecting to it is refused. */
export const closedOrigin = async (): Promise<string> => {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return `http://127.0.0.1:${port}`;
};

/** protected resource metadata as the reference PDS serves it. */
export const protectedResourceMetadata = (resource: string, issuer: string): Record<string, unknown> => ({
	resource,
	authorization_servers: [issuer],
	scopes_supported: [],
	bearer_methods_supported: ['header'],
	resource_documentation: 'https://atproto.com',
});

/** authorization server metadata that meets the atproto profile, as the reference server serves it. */
export const authorizationServerMetadata = (
	issuer: string,
	protectedResources: readonly string[] = [issuer],
): Record<string, unknown> => ({
	issuer,
	request_parameter_supported: true,
	request_uri_parameter_supported: true,
	require_request_uri_registration: true,
	scopes_supported: ['atproto', 'transition:email', 'transition:generic', 'transition:chat.bsky'],
	subject_types_supported: ['public'],
	response_types_supported: ['code'],
	response_modes_supported: ['query', 'fragment', 'form_post'],
	grant_types_supported: ['authorization_code', 'refresh_token'],
	code_challenge_methods_supported: ['S256'],
	ui_locales_supported: ['en-US'],
	display_values_supported: ['page', 'popup', 'touch'],
	request_object_signing_alg_values_supported: ['RS256', 'ES256', 'none'],
	authorization_response_iss_parameter_supported: true,
	request_object_encryption_alg_values_supported: [],
	request_object_encryption_enc_values_supported: [],
	jwks_uri: `${issuer}/oauth/jwks`,
	authorization_endpoint: `${issuer}/oauth/authorize`,
	token_endpoint: `${issuer}/oauth/token`,
	token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
	token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
	revocation_endpoint: `${issuer}/oauth/revoke`,
	pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
	require_pushed_authorization_requests: true,
	dpop_signing_alg_values_supported: ['RS256', 'ES256'],
	protected_resources: protectedResources,
	client_id_metadata_document_supported: true,
	prompt_values_supported: ['none', 'login', 'consent', 'select_account', 'create'],
});
