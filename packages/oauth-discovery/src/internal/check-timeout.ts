/**
 * throws the `TypeError` for a `timeout` option that is not a positive number of milliseconds a
 * timer can hold (at most 2^31 - 1: a longer one fires at once). a number only: compared as
 * numbers, `true` would be a 1 ms limit and '0x10' a 16 ms one.
 */
export const checkTimeout = (timeout: number): void => {
	if (typeof timeout !== 'number' || !(timeout > 0 && timeout <= 2 ** 31 - 1)) {
		const got = typeof timeout === 'string' ? JSON.stringify(timeout) : String(timeout);
		// a positive number refused must not be told it is not one
		if (typeof timeout === 'number' && timeout > 2 ** 31 - 1) {
			throw new TypeError(
				`timeout must be at most ${2 ** 31 - 1} milliseconds (a timer's longest delay), got ${got}`,
			);
		}
		throw new TypeError(`timeout must be a positive number of milliseconds, got ${got}`);
	}
};
