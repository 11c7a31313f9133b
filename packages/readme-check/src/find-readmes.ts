import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** the folders that hold workspace packages; each new package in them is picked up as it is added. */
export const PACKAGE_GROUPS: readonly string[] = ['packages', 'examples'];

/** every README of the workspace, relative to `root`: the root one, then one per package. */
export const findReadmes = (root: string): string[] => {
	const readmes = ['README.md'];
	for (const group of PACKAGE_GROUPS) {
		if (!existsSync(join(root, group))) continue;
		for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
			const readme = join(group, entry.name, 'README.md');
			if (entry.isDirectory() && existsSync(join(root, readme))) readmes.push(readme);
		}
	}
	return readmes.filter((readme) => existsSync(join(root, readme))).sort();
};
