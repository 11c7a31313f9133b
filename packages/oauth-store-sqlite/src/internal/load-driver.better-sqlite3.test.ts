// better-sqlite3 only: where its addon was not built for this Node (22 and 24 here), the store
// picks node:sqlite instead, rightly, and this file is left out of that run
import { describe, expect, it } from 'vitest';

import { selectDriver } from './load-driver.ts';

describe('selectDriver', () => {
	it('loads the real better-sqlite3 here', () => {
		expect(selectDriver().name).toBe('better-sqlite3');
	});
});
