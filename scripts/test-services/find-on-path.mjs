import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * the path of an executable named `command` on PATH, or undefined.
 * @param {string} command
 * @returns {string | undefined}
 */
export const findOnPath = (command) => {
	for (const dir of (process.env.PATH ?? '').split(delimiter)) {
		if (dir === '') continue;
		const path = join(dir, command);
		try {
			accessSync(path, constants.X_OK);
			return path;
		} catch {
			// not here
		}
	}
	return undefined;
};
