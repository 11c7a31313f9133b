export { DEFAULT_LEASE_MS, DEFAULT_PREFIX } from './constants.ts';
export { createRedisLock, type RedisLockOptions } from './create-redis-lock.ts';
export { type LeaseLostEvent, type LeaseLostReason, LockUnavailableError } from './errors.ts';
