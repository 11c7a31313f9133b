export {
	type AppSession,
	type AppSessionStore,
	type CreateAppOptions,
	createApp,
	FORM_BODY_LIMIT,
	LOGIN_COOKIE,
	LOOPBACK_LOGIN_COOKIE,
	LOOPBACK_SESSION_COOKIE,
	SESSION_COOKIE,
} from './app.ts';
export { type ActorResolverOptions, createActorResolver } from './create-actor-resolver.ts';
export {
	type CreateOAuthClientOptions,
	clientMode,
	createOAuthClient,
	DEFAULT_PORT,
	DEFAULT_SCOPE,
	FULL_BLUESKY_SCOPE,
	normalizePublicUrl,
} from './create-oauth-client.ts';
export { escapeHtml } from './html.ts';
export { ENV_FILES, loadEnvFiles } from './load-env-files.ts';
export { readServerConfig, type ServerEnv } from './read-server-config.ts';
export { type RunningServer, type StartServerOptions, startServer } from './start-server.ts';
