export type { Account, CreateAccountOptions } from './accounts.ts';
export type { AuthorizeOptions } from './authorize.ts';
export type { RevokeFailure, TestServerBehaviour, TokenFailure } from './behaviour.ts';
export { CLIENT_ASSERTION_TYPE, type ClientAuth } from './client-auth.ts';
export {
	type ClientMetadata,
	isLoopbackClientId,
	loopbackClientMetadata,
	matchesRedirectUri,
} from './client-metadata.ts';
export { createTestTls, type TestTls } from './create-test-tls.ts';
export { DEFAULT_SCOPES, DEFAULT_SIGNING_ALGS, type TestOAuthServerOptions } from './options.ts';
export { startTestOAuthServer } from './start-test-oauth-server.ts';
export type {
	ParRecord,
	ProofOutcome,
	Rejection,
	RequestRecord,
	ServerRole,
	TestServerStats,
} from './stats.ts';
export type { TestOAuthServer } from './test-oauth-server.ts';
export type { SessionInfo } from './token-store.ts';
