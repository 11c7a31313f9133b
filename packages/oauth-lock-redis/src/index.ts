// one class for every lock adapter, defined beside LockTimeoutError
export { LockUnavailableError } from '@atcute/oauth-client';
export { DEFAULT_LEASE_MS, DEFAULT_PREFIX } from './constants.ts';
export { createRedisLock, type RedisLockOptions } from './create-redis-lock.ts';
export type { LeaseLostEvent, LeaseLostReason } from './errors.ts';
