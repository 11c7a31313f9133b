/**
 * throws the `TypeError` for a `timeout` option that is not a positive number of milliseconds a
 * timer can hold (at most 2^31 - 1: a longer one fires at once).
 */
export const checkTimeout = (timeout: number): void => {
	if (!(timeout > 0 && timeout <= 2 ** 31 - 1)) {
		throw new TypeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
	}
};
