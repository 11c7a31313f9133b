import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { PACKAGE_GROUPS } from './find-readmes.ts';

/** the condition under which workspace packages export their TypeScript source. */
const SOURCE_CONDITION = '@atcute-oauth/source';

type ExportTarget = string | { [condition: string]: ExportTarget } | null;

/** the source file an export entry leads to: the source condition, else a `.ts` default. */
const sourceOf = (target: ExportTarget): string | undefined => {
	if (typeof target === 'string') return target.endsWith('.ts') ? target : undefined;
	if (target === null) return undefined;
	return sourceOf(target[SOURCE_CONDITION] ?? null) ?? sourceOf(target.default ?? null);
};

/**
 * every import specifier the workspace's packages export (`@atcute/oauth-dpop`,
 * `@atcute-oauth/internal/run-command`, ...), mapped to the absolute path of its source file.
 * read from each package.json, so a new package is picked up as it is added.
 */
export const workspacePaths = (root: string): Map<string, string> => {
	const paths = new Map<string, string>();
	for (const group of PACKAGE_GROUPS) {
		if (!existsSync(join(root, group))) continue;
		for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
			const dir = join(root, group, entry.name);
			const manifest = join(dir, 'package.json');
			if (!entry.isDirectory() || !existsSync(manifest)) continue;
			const { name, exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
				name?: string;
				exports?: ExportTarget | Record<string, ExportTarget>;
			};
			if (name === undefined || exports === undefined || exports === null) continue;
			const entries =
				typeof exports === 'string' || !Object.keys(exports).some((key) => key.startsWith('.'))
					? [['.', exports as ExportTarget] as const]
					: Object.entries(exports as Record<string, ExportTarget>);
			for (const [key, target] of entries) {
				const source = sourceOf(target);
				if (source !== undefined) paths.set(name + key.slice(1), join(dir, source));
			}
		}
	}
	return paths;
};
