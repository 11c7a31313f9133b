import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

describe('runCommand', () => {
	it('is the same file as the copy in @atcute/oauth-store-redis', () => {
		const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
		expect(read('./run-command.ts')).toBe(read('../../../oauth-store-redis/src/internal/run-command.ts'));
	});
});
