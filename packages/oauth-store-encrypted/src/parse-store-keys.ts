import type { StoreKey } from './store-key.ts';

/**
 * reads a key ring from one line of text, as an environment variable holds it:
 * `id:secret,id:secret`, the first one encrypting (spaces and newlines around entries are
 * ignored). only the shape is checked here; `encryptStore` checks each secret. errors name the
 * entry's position, never its text.
 */
export const parseStoreKeys = (text: string | undefined, name = 'keys'): StoreKey[] => {
	if (typeof text !== 'string' || text.trim() === '') {
		throw new TypeError(`${name} is empty: expected "id:secret", several separated by commas`);
	}
	return text.split(',').map((entry, index) => {
		const trimmed = entry.trim();
		const colon = trimmed.indexOf(':');
		if (colon <= 0 || colon === trimmed.length - 1) {
			throw new TypeError(`${name}: entry ${index + 1} is not "id:secret"`);
		}
		return { id: trimmed.slice(0, colon), secret: trimmed.slice(colon + 1) };
	});
};
