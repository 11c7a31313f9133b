import { FULL_BLUESKY_SCOPE } from './create-oauth-client.ts';
import type { StartServerOptions } from './start-server.ts';

/** the environment variables the server reads. */
export type ServerEnv = Readonly<Record<string, string | undefined>>;

const value = (env: ServerEnv, name: string): string | undefined => {
	const raw = env[name]?.trim();
	return raw === undefined || raw === '' ? undefined : raw;
};

const parseBoolean = (env: ServerEnv, name: string): boolean => {
	const raw = value(env, name)?.toLowerCase();
	if (raw === undefined || raw === '0' || raw === 'false' || raw === 'no') return false;
	if (raw === '1' || raw === 'true' || raw === 'yes') return true;
	throw new TypeError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
};

const parsePort = (env: ServerEnv): number | undefined => {
	const raw = value(env, 'PORT');
	if (raw === undefined) return undefined;
	const port = Number(raw);
	if (!/^\d+$/.test(raw) || !(port >= 0 && port <= 65535)) {
		throw new TypeError(`PORT must be a port number (0-65535), got ${JSON.stringify(raw)}`);
	}
	return port;
};

/** `name` as an http(s) URL, or undefined when unset; the value is repeated: it holds no secret. */
const parseHttpUrl = (env: ServerEnv, name: string): string | undefined => {
	const raw = value(env, name);
	if (raw === undefined) return undefined;
	if (!URL.canParse(raw)) throw new TypeError(`${name} is not a URL: ${JSON.stringify(raw)}`);
	const { protocol } = new URL(raw);
	if (protocol !== 'http:' && protocol !== 'https:') {
		throw new TypeError(`${name} must be an http:// or https:// URL, got ${protocol}//…`);
	}
	return raw;
};

/**
 * `DATABASE_URL` as a PostgreSQL connection string, or undefined when unset. the messages never
 * repeat it, nor any part of it: it holds the database password (and a string missing its scheme,
 * `user:password@host/db`, parses with the user name as its scheme).
 */
const parseDatabaseUrl = (env: ServerEnv): string | undefined => {
	const raw = value(env, 'DATABASE_URL');
	if (raw === undefined) return undefined;
	const protocol = URL.canParse(raw) ? new URL(raw).protocol : undefined;
	if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
		throw new TypeError(
			'DATABASE_URL must be a postgres:// or postgresql:// URL, like postgres://user:password@host:5432/db (its value is not repeated here: it may hold a password)',
		);
	}
	return raw;
};

const parseScope = (env: ServerEnv): StartServerOptions['scope'] => {
	const raw = value(env, 'OAUTH_SCOPE');
	if (raw === undefined || raw === 'generic') return undefined;
	if (raw === 'full') return FULL_BLUESKY_SCOPE;
	// anything else is a space-separated scope string
	return raw;
};

/**
 * reads the server's options from environment variables (empty means unset): `PUBLIC_URL`,
 * `PRIVATE_KEY_JWK`, `PORT`, `HOST`, `COOKIE_SECRET`, `PLC_URL`, `HANDLE_RESOLVER_URL`,
 * `ALLOW_HTTP`, `OAUTH_SCOPE` (`generic`, the default; `full`, the documented Bluesky
 * list; or a space-separated scope), `DATABASE_URL` (PostgreSQL for sessions, states and the
 * refresh lock). throws a `TypeError` naming a malformed variable.
 */
export const readServerConfig = (env: ServerEnv): StartServerOptions => {
	const options: StartServerOptions = {
		publicUrl: value(env, 'PUBLIC_URL'),
		privateKeyJwk: value(env, 'PRIVATE_KEY_JWK'),
		port: parsePort(env),
		hostname: value(env, 'HOST'),
		cookieSecret: value(env, 'COOKIE_SECRET'),
		plcUrl: parseHttpUrl(env, 'PLC_URL'),
		handleResolverUrl: parseHttpUrl(env, 'HANDLE_RESOLVER_URL'),
		allowHttp: parseBoolean(env, 'ALLOW_HTTP'),
		scope: parseScope(env),
		databaseUrl: parseDatabaseUrl(env),
	};
	return options;
};
