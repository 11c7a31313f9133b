// test helpers that other packages keep in their folders (not exported): the client's test setup
// (with the OAuth test server) and the Redis test server; and the packages these tests use.

export { exportJwkKey } from '@atcute/oauth-keys';
export { RedisStore, StoreUnavailableError } from '@atcute/oauth-store-redis';
export {
	createTestClient,
	signIn,
	startTestOAuthServer,
	TEST_CLIENT_METADATA,
	type TestClock,
	type TestOAuthServer,
	testClock,
} from '../../../oauth-client/src/test-utils/setup.ts';
export {
	connect,
	freePort,
	keysUnder,
	removeKeys,
	type SpawnedRedis,
	spawnRedisServer,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from '../../../oauth-store-redis/src/test-utils/redis-server.ts';
