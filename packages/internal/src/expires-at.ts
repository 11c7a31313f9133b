// shared by @atcute/oauth-store-postgres, @atcute/oauth-store-redis and @atcute/oauth-store-sqlite
// (each build inlines it): one rule for what `set()` accepts as `expiresAt`, checked before anything is sent.

/**
 * the furthest time from the epoch a JavaScript `Date` can hold, in milliseconds (about the year
 * 275 760). every backend stores an expiry up to it: SQLite's 64-bit integers, PostgreSQL's
 * timestamptz (to the year 294 276) and Redis's `PX`.
 */
export const MAX_EXPIRES_AT = 8.64e15;

/**
 * checks `set()`'s `expiresAt` (milliseconds since the epoch) and returns it as it is.
 * @throws {TypeError} naming the value, when it is not a number within ±`MAX_EXPIRES_AT`
 */
export const checkExpiresAt = (expiresAt: number | undefined): number | undefined => {
	if (expiresAt === undefined) return undefined;
	// why: a value past what a backend stores passed before and then failed there, differently in
	// each (a constraint, a refused command, a timestamp out of range): refuse it here, the same way
	if (typeof expiresAt !== 'number' || !(Math.abs(expiresAt) <= MAX_EXPIRES_AT)) {
		throw new TypeError(
			`expiresAt must be a number of milliseconds since the epoch within ±${MAX_EXPIRES_AT} (a valid Date), got ${String(expiresAt)}`,
		);
	}
	return expiresAt;
};

/**
 * the checked `expiresAt` of `set()`'s options. options that are not an object are refused: an
 * expiry passed on its own (`set(key, value, Date.now() + ttl)`) would otherwise read as no
 * options, and the entry be kept for ever.
 * @throws {TypeError} naming the options, or the value as `checkExpiresAt` does
 */
export const expiresAtOf = (options: { expiresAt?: number | undefined } | undefined): number | undefined => {
	if (options === undefined) return undefined;
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(
			`set(key, value, options) expects options such as { expiresAt }, got ${options === null ? 'null' : typeof options}`,
		);
	}
	return checkExpiresAt(options.expiresAt);
};
