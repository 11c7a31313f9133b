// the OAuth test server, the client's test setup and the key helpers are reached through their
// packages' folders: they are not dependencies of this package (the client's test setup brings
// its own through its own node_modules). vite and tsc resolve them from where they live.

export {
	CLIENT_ID,
	createTestClient,
	REDIRECT_URI,
	signIn,
	startTestOAuthServer,
	type TestClock,
	type TestOAuthServer,
	testClock,
} from '../../../oauth-client/src/test-utils/setup.ts';
export { exportJwkKey } from '../../../oauth-keys/src/index.ts';
export { RedisStore, StoreUnavailableError } from '../../../oauth-store-redis/src/index.ts';
export {
	connect,
	keysUnder,
	removeKeys,
	type SpawnedRedis,
	spawnRedisServer,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from '../../../oauth-store-redis/src/test-utils/redis-server.ts';
