import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

/** a package.json of this repository, read from its folder under packages/. */
const manifest = (folder: string): { version: string; peerDependencies?: Record<string, string> } =>
	JSON.parse(readFileSync(new URL(`../../${folder}/package.json`, import.meta.url), 'utf8'));

/** the lowest version a range of `^x.y.z` alternatives takes (the only form these ranges use). */
const lowestOf = (range: string): string => {
	const versions = range.split('||').map((alternative) => {
		const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(alternative.trim());
		if (match === null) throw new Error(`unexpected range alternative: ${alternative}`);
		return match.slice(1).map(Number);
	});
	versions.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
	return versions[0]!.join('.');
};

/** the version of the ioredis the suites run as the lowest allowed (`ioredis-lowest`). */
const testedLowest = JSON.parse(
	readFileSync(new URL('../node_modules/ioredis-lowest/package.json', import.meta.url), 'utf8'),
).version as string;

describe('ioredis peer range', () => {
	// a range promises its lowest version: ioredis before 5.2.5 has no runtime `Redis` export (the
	// README's `import { Redis } from 'ioredis'` fails at import), before 5.0.3 not even its type
	// (the published .d.ts fails to compile). the conformance suites run on `ioredis-lowest`
	for (const folder of ['oauth-store-redis', 'oauth-lock-redis']) {
		it(`${folder}: its lowest allowed ioredis is the one the suites run on`, () => {
			const range = manifest(folder).peerDependencies?.ioredis;
			expect(range).toBeDefined();
			expect(lowestOf(range!)).toBe(testedLowest);
		});
	}

	it("the lowest allowed ioredis exports `Redis` by name, as the README's samples import it", async () => {
		const lowest = await import('ioredis-lowest');
		expect(typeof lowest.Redis).toBe('function');
	});
});
