import { afterEach, describe, expect, it, vi } from 'vitest';

// the answer is kept for the life of the module: each test loads a fresh copy
const load = async () => {
	vi.resetModules();
	return (await import('./fetch-no-cache.ts')).fetchAcceptsNoCache;
};

afterEach(() => {
	vi.unstubAllGlobals();
});

describe('fetchAcceptsNoCache', () => {
	it('is true where Request takes cache: "no-cache" (Node, Bun, Deno)', async () => {
		expect(await load().then((check) => check())).toBe(true);
	});

	it('is false where Request rejects the option, as workerd does before 2025-08-07, and asks once', async () => {
		const seen: unknown[] = [];
		vi.stubGlobal(
			'Request',
			class {
				constructor(_url: string, init?: { cache?: string }) {
					seen.push(init?.cache);
					// workerd's message on dates from 2024-11-11 to 2025-08-06
					if (init?.cache === 'no-cache') throw new TypeError('Unsupported cache mode: no-cache');
				}
			},
		);
		const check = await load();
		expect(check()).toBe(false);
		expect(check()).toBe(false);
		expect(seen).toEqual(['no-cache']);
	});
});
