import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthClient } from '@atcute/oauth-node-client';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

import { type AppSessionStore, createApp } from './app.ts';
import {
	type CreateOAuthClientOptions,
	clientMode,
	createOAuthClient,
	DEFAULT_PORT,
	normalizePublicUrl,
} from './create-oauth-client.ts';
import { gracefulClose } from './graceful-close.ts';
import { APP_SESSIONS_TABLE, openPostgresBackend, SESSIONS_TABLE, STATES_TABLE } from './postgres-backend.ts';

/** options for `startServer`: the client's, plus where to listen and how to sign cookies. */
export interface StartServerOptions extends CreateOAuthClientOptions {
	/** the port to listen on; default 3000; 0 picks a free one. */
	port?: number | undefined;
	/**
	 * the interface to listen on; default `127.0.0.1`. a loopback client always listens there
	 * (its redirect URI names it); behind a reverse proxy in a container you may need `0.0.0.0`.
	 */
	hostname?: string | undefined;
	/**
	 * a PostgreSQL connection string (`DATABASE_URL`): sessions, states, the refresh lock and the
	 * app's own sessions go there (`@atcute/oauth-store-postgres`), shared by every process of the
	 * app. ignored when `stores` is given. default: in memory, one process.
	 */
	databaseUrl?: string | undefined;
	/** where the app keeps its sessions (see `createApp`); default as `databaseUrl` says. */
	appSessions?: AppSessionStore | undefined;
	/** the cookie signing secret (`COOKIE_SECRET`); default a random one per process, with a warning. */
	cookieSecret?: string | undefined;
	/** where the startup lines go; default `console.log`. */
	log?: ((line: string) => void) | undefined;
	/** where warnings go; default `console.warn`. */
	warn?: ((line: string) => void) | undefined;
	/** where request errors go; default `console.error`. */
	logError?: ((message: string, error: unknown) => void) | undefined;
	/**
	 * at `close()`, how long the requests under way may take to finish before their connections
	 * are cut, in milliseconds; default 10,000.
	 */
	shutdownGrace?: number | undefined;
}

/** a running server. */
export interface RunningServer {
	/** the URL to open in a browser: the public URL, or `http://127.0.0.1:<port>/` in loopback mode. */
	url: string;
	/** the address the server listens on (`http://<host>:<port>`). */
	listenUrl: string;
	/** the port it listens on. */
	port: number;
	/** which client the app is: `confidential` (PUBLIC_URL set) or `loopback`. */
	mode: 'confidential' | 'loopback';
	/** the OAuth client the app uses. */
	oauth: OAuthClient;
	/** the Hono app. */
	app: Hono;
	/**
	 * shuts down: stops listening, gives the requests under way `shutdownGrace` to finish (then
	 * cuts their connections), and waits for the OAuth client's work under way (`oauth.close()`),
	 * so that the stores can be closed after it without losing a refreshed session.
	 */
	close(): Promise<void>;
}

const LOOPBACK_HOST = '127.0.0.1';
/** how long requests under way at a shutdown may take to finish before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

const formatHost = (hostname: string): string => (hostname.includes(':') ? `[${hostname}]` : hostname);

/**
 * builds the OAuth client and the app and serves them with `@hono/node-server`. without a
 * `publicUrl` the client is a loopback development client on `http://127.0.0.1:<port>`.
 */
export const startServer = async (given: StartServerOptions = {}): Promise<RunningServer> => {
	// with a database, its stores and lock replace the in-memory ones
	const backend =
		given.databaseUrl !== undefined && given.stores === undefined
			? await openPostgresBackend(given.databaseUrl)
			: undefined;
	try {
		const running = await listen(
			backend === undefined
				? given
				: {
						...given,
						stores: backend.stores,
						requestLock: backend.requestLock,
						appSessions: given.appSessions ?? backend.appSessions,
					},
		);
		if (backend === undefined) return running;
		(given.log ?? console.log)(
			`store: PostgreSQL (tables ${SESSIONS_TABLE}, ${STATES_TABLE}, ${APP_SESSIONS_TABLE}), with its refresh lock`,
		);
		let closing: Promise<void> | undefined;
		return {
			...running,
			// the OAuth work under way is stored before the pools end (see close() below); once
			close: () =>
				(closing ??= (async () => {
					await running.close();
					await backend.close();
				})()),
		};
	} catch (error) {
		await backend?.close();
		throw error;
	}
};

const listen = async (options: StartServerOptions): Promise<RunningServer> => {
	const log = options.log ?? ((line) => console.log(line));
	const warn = options.warn ?? ((line) => console.warn(line));
	const publicUrl = normalizePublicUrl(options.publicUrl);
	const loopback = publicUrl === undefined;
	const hostname = options.hostname ?? LOOPBACK_HOST;
	if (loopback && hostname !== LOOPBACK_HOST) {
		throw new TypeError(
			`a loopback client listens on ${LOOPBACK_HOST} only (its redirect URI names it), not on ${hostname}; set PUBLIC_URL for a confidential client`,
		);
	}

	// a confidential client is built first: a bad key fails before anything listens. a loopback
	// client's redirect URI names the port, known only once listening (PORT=0 picks one)
	let oauth: OAuthClient | undefined = loopback
		? undefined
		: await createOAuthClient({ ...options, publicUrl });
	let cookieSecret = options.cookieSecret;
	if (cookieSecret === undefined) {
		cookieSecret = randomBytes(32).toString('base64url');
		warn('warning: COOKIE_SECRET is not set; using a random one, so sign-ins end when the process restarts');
	} else if (cookieSecret.length < 32) {
		throw new TypeError('COOKIE_SECRET must be 32 characters or more (try `openssl rand -base64 32`)');
	}
	if (loopback && options.privateKeyJwk !== undefined) {
		warn('note: PRIVATE_KEY_JWK is not used in loopback mode (PUBLIC_URL is not set)');
	}

	let app: Hono | undefined;
	const server = await new Promise<Server>((resolve, reject) => {
		const listening = serve(
			{
				fetch: (request, env) =>
					app === undefined ? new Response('starting', { status: 503 }) : app.fetch(request, env),
				port: options.port ?? DEFAULT_PORT,
				hostname,
				// leave the process's Request and Response alone: it may be an embedding harness
				overrideGlobalObjects: false,
			},
			() => {
				listening.off('error', reject);
				resolve(listening as Server);
			},
		);
		listening.once('error', reject);
	});

	const stopServer = gracefulClose(server);
	let closing: Promise<void> | undefined;
	// once: a second signal (SIGINT then SIGTERM) waits for the same shutdown
	const close = (): Promise<void> =>
		(closing ??= (async () => {
			// no new connections or requests; those under way get a grace to finish, then are cut off
			await stopServer(options.shutdownGrace ?? SHUTDOWN_GRACE_MS);
			// then the OAuth work still under way (a refresh, a sign-in's callback), which a request
			// cut off does not stop, stores its tokens; the stores may be closed only after that, or
			// a refresh token spent at the server has no successor stored and the user is signed out
			await oauth?.close();
		})());

	const { port } = server.address() as AddressInfo;
	const listenUrl = `http://${formatHost(hostname)}:${port}`;
	try {
		oauth ??= await createOAuthClient({ ...options, publicUrl: undefined, port });
		app = createApp({
			oauth,
			cookieSecret,
			appSessions: options.appSessions,
			publicUrl,
			loopbackOrigin: loopback ? listenUrl : undefined,
			logError: options.logError,
		});
	} catch (error) {
		await close();
		throw error;
	}

	const mode = clientMode(oauth);
	const url = loopback ? `${listenUrl}/` : `${publicUrl}/`;
	if (mode === 'loopback') {
		log(
			'mode: loopback client (development; PUBLIC_URL is not set): no key, sign-in works from this machine only',
		);
	} else {
		log(`mode: confidential client (private_key_jwt), client_id ${oauth.metadata.client_id}`);
	}
	log(`scope: ${oauth.metadata.scope}`);
	if (options.allowHttp)
		warn('warning: ALLOW_HTTP is on: plain-http PDSes and authorization servers are allowed');
	log(`listening on ${listenUrl}`);
	log(`open ${url}`);

	return { url, listenUrl, port, mode, oauth, app, close };
};
