// check-env on a name that no variable has but that process.env answers anyway: the names of
// Object.prototype's members (toString, constructor, __proto__, hasOwnProperty).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { run } from './run-node.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const BIN = fileURLToPath(new URL(`../${PACKAGE.bin['oauth-store-encrypted']}`, import.meta.url));

describe('oauth-store-encrypted check-env (bin)', () => {
	it.each([['toString'], ['constructor'], ['__proto__'], ['hasOwnProperty']])(
		'says %s is not set, not that it is empty',
		async (name) => {
			const { code, stdout, stderr } = await run(BIN, ['check-env', name]);
			expect(code).toBe(1);
			expect(stdout).toBe('');
			expect(stderr).toContain('is not set');
			expect(stderr).not.toContain('is empty');
		},
	);
});
