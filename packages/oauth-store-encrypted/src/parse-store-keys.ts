import { keyPosition, rememberKeySource } from './internal/key-source.ts';
import type { StoreKey } from './store-key.ts';

/**
 * reads a key ring from one line of text, as an environment variable holds it:
 * `id:secret,id:secret`, the first one encrypting (spaces and newlines around entries are
 * ignored). only the shape is checked here; `encryptStore` checks each secret. errors name
 * `name` and the entry's position (`NAME[0]` is the first, as in the array returned; the key
 * ring's errors number them the same way and name `name` too), never its text.
 */
export const parseStoreKeys = (text: string | undefined, name = 'keys'): StoreKey[] => {
	if (typeof text !== 'string' || text.trim() === '') {
		throw new TypeError(`${name} is empty: expected "id:secret", several separated by commas`);
	}
	const keys = text.split(',').map((entry, index) => {
		const trimmed = entry.trim();
		const colon = trimmed.indexOf(':');
		if (colon <= 0 || colon === trimmed.length - 1) {
			throw new TypeError(`${keyPosition(name, index)} is not "id:secret"`);
		}
		return { id: trimmed.slice(0, colon), secret: trimmed.slice(colon + 1) };
	});
	// so that the key ring's errors about these keys name the variable, not `keys`
	rememberKeySource(keys, name);
	return keys;
};
