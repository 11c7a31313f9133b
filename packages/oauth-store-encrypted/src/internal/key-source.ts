// where a key ring was read from, so the ring's messages name the environment variable that
// `parseStoreKeys` read it from, with the positions it uses.

/** the name each `parseStoreKeys` result was read under, by array; forgotten with the array. */
const sources = new WeakMap<object, string>();

/** remembers that `keys` was read from the variable (or option) `name`. */
export const rememberKeySource = (keys: object, name: string): void => {
	sources.set(keys, name);
};

/** the name `keys` was read under by `parseStoreKeys`, if it was. */
export const keySourceOf = (keys: object): string | undefined => sources.get(keys);

/**
 * how every message names one entry of a key ring: `NAME[index]`, counted from 0, the index of
 * the array `parseStoreKeys` returns, whether the ring is an option or an environment variable.
 */
export const keyPosition = (name: string, index: number): string => `${name}[${index}]`;
