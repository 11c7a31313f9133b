import { describe, expect, it } from 'vitest';

import { deepFreeze } from './deep-freeze.ts';

describe('deepFreeze', () => {
	it('freezes every object and array a document holds, and returns it', () => {
		const document = { a: [{ b: 1 }, 'c'], d: { e: null } };
		expect(deepFreeze(document)).toBe(document);
		expect(Object.isFrozen(document)).toBe(true);
		expect(Object.isFrozen(document.a)).toBe(true);
		expect(Object.isFrozen(document.a[0])).toBe(true);
		expect(Object.isFrozen(document.d)).toBe(true);
	});

	it('returns anything but an object as it is', () => {
		expect(deepFreeze('x')).toBe('x');
		expect(deepFreeze(null)).toBe(null);
		expect(deepFreeze(undefined)).toBe(undefined);
	});

	it('ends on a cycle', () => {
		const a: Record<string, unknown> = {};
		a.self = { a };
		deepFreeze(a);
		expect(Object.isFrozen(a.self)).toBe(true);
	});

	it('does not take a value it failed to freeze for frozen', () => {
		// a typed array with elements cannot be frozen: the throw reaches the caller every time
		const value = { nested: { bytes: new Uint8Array(1) } };
		expect(() => deepFreeze(value)).toThrow(TypeError);
		expect(() => deepFreeze(value)).toThrow(TypeError);
	});
});
