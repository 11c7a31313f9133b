import type { Redis } from 'ioredis';

/**
 * the clients warned about, once per client: a store for sessions and one for states often share
 * it. kept on `globalThis` under a `Symbol.for` key, not in a module-level set: a dev server's hot
 * reload (or a test runner's module reset) evaluates this module again while the app keeps its one
 * client (`globalThis.redis ??= new Redis()`), and each reload warned again. where the global
 * cannot take it (frozen, or the key taken by something else), the set is this module's own.
 */
const warned = ((): WeakSet<object> => {
	const symbol = Symbol.for('@atcute/oauth-store-redis/resend-warned@1');
	const existing = (globalThis as Record<symbol, unknown>)[symbol];
	if (existing instanceof WeakSet) return existing as WeakSet<object>;
	const own = new WeakSet<object>();
	if (existing !== undefined) return own;
	try {
		// not enumerable, not writable: nothing lists it, nothing replaces it
		Object.defineProperty(globalThis, symbol, { value: own, enumerable: false, writable: false });
	} catch {
		// a frozen global: this module's own
	}
	return own;
})();

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
