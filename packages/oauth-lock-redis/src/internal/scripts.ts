/**
 * deletes the key only if it still holds our token. a holder whose lease expired must not delete
 * the lease another process acquired since. returns 1 (deleted), 0 (gone) or -1 (another owner).
 */
export const RELEASE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
	return redis.call('DEL', KEYS[1])
elseif current then
	return -1
end
return 0`;

/**
 * extends the lease only if it still holds our token. returns 1 (extended), 0 (gone) or -1
 * (another owner).
 */
export const RENEW_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif current then
	return -1
end
return 0`;

/**
 * takes the lease if the key is free (`SET key token PX lease`), in one round trip. a key that
 * already holds our token is ours too: our own earlier run of this script, whose answer was lost
 * with the connection and which the client sent again after reconnecting (ioredis does by
 * default). returns 1 (ours) or 0 (another owner holds it).
 */
export const ACQUIRE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
elseif current == ARGV[1] then
	return 1
end
return 0`;
