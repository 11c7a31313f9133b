import { describe, expect, it } from 'vitest';

import { OAuthClient } from './oauth-client.ts';

// nothing, or null, used to fail on a property read ("Cannot destructure property 'metadata' of
// 'options' as it is undefined"), naming no option
describe('new OAuthClient: options that are not an options object', () => {
	it.each([
		['nothing', [], 'undefined'],
		['undefined', [undefined], 'undefined'],
		['null', [null], 'null'],
		['a list', [[]], 'an array'],
		['a string', ['https://app.example.com/client-metadata.json'], 'string'],
	])('refuses %s with a TypeError naming options', (_label, args, got) => {
		const make = () => new (OAuthClient as unknown as new (...args: unknown[]) => OAuthClient)(...args);
		expect(make).toThrow(
			new TypeError(
				`new OAuthClient(options) expects an options object ({ metadata, keyset, stores, actorResolver, ... }), got ${got}`,
			),
		);
	});
});
