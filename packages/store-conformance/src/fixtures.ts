/**
 * values the store suite round-trips: every JSON shape the client writes, plus the awkward ones
 * (unicode, large, deep). each must come back with the same content and the same key order.
 */
export const roundTripValues: ReadonlyArray<readonly [label: string, value: unknown]> = [
	['a nested object', { a: { b: { c: { d: [1, { e: 'f' }] } } }, g: {} }],
	['unicode text', { text: 'héllo wörld ✓ 日本語 🦋 \u0000 \u2028 "quotes" \\ back\nslash' }],
	[
		'numbers',
		{ zero: 0, negative: -42, float: 0.1, big: 1e308, small: 5e-324, max: Number.MAX_SAFE_INTEGER },
	],
	['booleans', { yes: true, no: false }],
	['null inside an object', { present: null, nested: { alsoNull: null } }],
	['arrays', [[], [1, 'two', null, true, { three: 3 }], ['a', ['b', ['c']]]]],
	['a top-level string', 'just a string'],
	['a top-level number', 1_700_000_000_000],
	['an empty object', {}],
	['an empty string', ''],
	['a value of about 1 MB', { blob: 'x'.repeat(1024 * 1024), tail: 'end' }],
	[
		'a stored session',
		{
			dpopKey: {
				kty: 'EC',
				crv: 'P-256',
				x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
				y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
				d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
				alg: 'ES256',
			},
			authMethod: { method: 'private_key_jwt', kid: 'key-2025-01' },
			tokenSet: {
				iss: 'https://bsky.social',
				sub: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
				aud: 'https://morel.us-east.host.bsky.network',
				scope: 'atproto transition:generic',
				access_token: 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.e30.c2lnbmF0dXJl',
				refresh_token: 'ref-5f1c4a3e9b2d4c7a8e6f0a1b2c3d4e5f',
				token_type: 'DPoP',
				expires_at: 1_767_225_600_000,
			},
		},
	],
];

/**
 * keys that break adapters which build patterns, paths or object properties from keys: glob
 * characters for Redis `KEYS`/`SCAN`, `%` and `_` for SQL `LIKE`, prototype names for objects.
 */
export const unusualKeys: readonly string[] = [
	'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
	'did:web:a%3Ab',
	'did:web:example.com',
	'with spaces in it',
	'ünïcödé-🦋-日本',
	'__proto__',
	'constructor',
	'hasOwnProperty',
	'*',
	'?',
	'[',
	'[a-z]',
	':',
	'a*',
	'%',
	'_',
	'quote\'d "key"',
	'back\\slash',
	'line\nbreak',
	// the longest key every store takes: PostgresStore refuses longer ones (its index's row limit),
	// and DIDs, the longest keys the client writes, are at most 2 KB
	'k'.repeat(2048),
];

/** waits `ms` milliseconds of real time. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
