import type { Redis } from 'ioredis';

// once per client: a store for sessions and one for states often share it
const warned = new WeakSet<object>();

/**
 * warns, once per client, when ioredis would send a command the store gave up on again after a
 * reconnection (`autoResendUnfulfilledCommands`, on by default). such a write, reported to the
 * client as failed, could then run after another process wrote newer data: put back a session
 * that was replaced, or delete a newer sign-in. the fix is one client option; the store cannot
 * take the command back out of ioredis's queue itself.
 */
export const warnIfCommandsResent = (redis: Redis): void => {
	const resends = (redis as { options?: { autoResendUnfulfilledCommands?: boolean } }).options
		?.autoResendUnfulfilledCommands;
	if (resends === false || warned.has(redis)) return;
	warned.add(redis);
	globalThis.process?.emitWarning?.(
		"this ioredis client re-sends, after reconnecting, commands the store already reported as failed (autoResendUnfulfilledCommands): a failed write could later overwrite newer data. create the RedisStore's client with { autoResendUnfulfilledCommands: false }",
		{ type: 'RedisResendWarning', code: 'ATCUTE_OAUTH_REDIS_RESEND' },
	);
};
