import { createContext, runInContext } from 'node:vm';

import { describe, expect, it } from 'vitest';

import { type AuthChallenge, parseWwwAuthenticate } from './parse-www-authenticate.ts';

const watchdog = createContext({ parse: parseWwwAuthenticate, header: '' });

/**
 * parses under a watchdog, so a parser stuck in a loop fails the test instead of hanging it. the
 * limit only catches a loop: it is seconds, far above any real parse even on a loaded machine,
 * because tests never assert on speed.
 */
const parseWithin = (header: string): AuthChallenge[] => {
	watchdog.header = header;
	return runInContext('parse(header)', watchdog, { timeout: 5_000 });
};

describe('parseWwwAuthenticate', () => {
	it('parses a DPoP challenge with quoted params', () => {
		expect(
			parseWwwAuthenticate(
				'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
			),
		).toStrictEqual([
			{
				scheme: 'dpop',
				params: {
					error: 'use_dpop_nonce',
					error_description: 'Resource server requires nonce in DPoP proof',
				},
			},
		]);
	});

	it('lowercases the scheme and param names but keeps values as written', () => {
		expect(parseWwwAuthenticate('dpop Error="use_dpop_nonce"')).toStrictEqual([
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce' } },
		]);
		expect(parseWwwAuthenticate('DPOP ERROR="Use_DPoP_Nonce"')).toStrictEqual([
			{ scheme: 'dpop', params: { error: 'Use_DPoP_Nonce' } },
		]);
	});

	it('splits several challenges in one header', () => {
		expect(
			parseWwwAuthenticate('Bearer realm="x", DPoP algs="ES256 PS256", error="use_dpop_nonce"'),
		).toStrictEqual([
			{ scheme: 'bearer', params: { realm: 'x' } },
			{ scheme: 'dpop', params: { algs: 'ES256 PS256', error: 'use_dpop_nonce' } },
		]);
	});

	it("skips empty list elements among a challenge's params (RFC 9110 §5.6.1)", () => {
		expect(parseWwwAuthenticate('DPoP , error="use_dpop_nonce"')).toStrictEqual([
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce' } },
		]);
		expect(parseWwwAuthenticate('DPoP error="use_dpop_nonce",, algs="ES256"')).toStrictEqual([
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce', algs: 'ES256' } },
		]);
		// a scheme with no params, then another: still two challenges
		expect(parseWwwAuthenticate('Basic, , Bearer realm="x"')).toStrictEqual([
			{ scheme: 'basic', params: {} },
			{ scheme: 'bearer', params: { realm: 'x' } },
		]);
	});

	it('parses the example of RFC 9110 section 11.6.1', () => {
		expect(
			parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'),
		).toStrictEqual([
			{ scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
			{ scheme: 'basic', params: { realm: 'simple' } },
		]);
	});

	it('unescapes quoted strings and keeps commas inside them', () => {
		expect(
			parseWwwAuthenticate('DPoP error_description="a \\"b\\", c", error="invalid_token"'),
		).toStrictEqual([{ scheme: 'dpop', params: { error_description: 'a "b", c', error: 'invalid_token' } }]);
	});

	it('keeps an escaped backslash as one backslash', () => {
		expect(parseWwwAuthenticate('DPoP error_description="a\\\\b"')).toStrictEqual([
			{ scheme: 'dpop', params: { error_description: 'a\\b' } },
		]);
	});

	it('reads an empty quoted string as an empty value', () => {
		expect(parseWwwAuthenticate('DPoP realm="", error="use_dpop_nonce"')).toStrictEqual([
			{ scheme: 'dpop', params: { realm: '', error: 'use_dpop_nonce' } },
		]);
	});

	it('parses a token68 challenge', () => {
		expect(parseWwwAuthenticate('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).toStrictEqual([
			{ scheme: 'basic', params: {}, token68: 'YWxhZGRpbjpvcGVuc2VzYW1l' },
		]);
	});

	it('parses a padded token68 followed by another challenge', () => {
		expect(parseWwwAuthenticate('Negotiate abc==, DPoP error=use_dpop_nonce')).toStrictEqual([
			{ scheme: 'negotiate', params: {}, token68: 'abc==' },
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce' } },
		]);
	});

	it('reads unquoted token values', () => {
		expect(parseWwwAuthenticate('DPoP error=use_dpop_nonce, algs=ES256')).toStrictEqual([
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce', algs: 'ES256' } },
		]);
	});

	it('allows whitespace around "=" and ","', () => {
		expect(parseWwwAuthenticate('DPoP  error = "use_dpop_nonce" ,\talgs="ES256"')).toStrictEqual([
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce', algs: 'ES256' } },
		]);
	});

	it('parses a scheme without params followed by another challenge', () => {
		expect(parseWwwAuthenticate('Bearer, DPoP error="use_dpop_nonce"')).toStrictEqual([
			{ scheme: 'bearer', params: {} },
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce' } },
		]);
	});

	it('skips empty list elements', () => {
		expect(parseWwwAuthenticate(' , ,DPoP error="use_dpop_nonce",, ')).toStrictEqual([
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce' } },
		]);
	});

	it('keeps a param that only mentions use_dpop_nonce apart from error', () => {
		const [challenge] = parseWwwAuthenticate('DPoP error_description="use_dpop_nonce"');
		expect(challenge).toStrictEqual({ scheme: 'dpop', params: { error_description: 'use_dpop_nonce' } });
		expect(challenge?.params.error).toBeUndefined();
	});

	it('does not read error=use_dpop_nonce out of a quoted value', () => {
		expect(parseWwwAuthenticate('DPoP error_description="x, error=use_dpop_nonce"')).toStrictEqual([
			{ scheme: 'dpop', params: { error_description: 'x, error=use_dpop_nonce' } },
		]);
	});

	it('does not take a param after a missing comma into the challenge', () => {
		const [challenge] = parseWithin('DPoP error="invalid_token" error="use_dpop_nonce"');
		expect(challenge).toStrictEqual({ scheme: 'dpop', params: { error: 'invalid_token' } });
	});

	it('returns no challenges for an empty header', () => {
		expect(parseWwwAuthenticate('')).toStrictEqual([]);
	});

	it('returns the challenges parsed before an unterminated quoted string', () => {
		expect(parseWithin('Bearer realm="x", DPoP error="use_dpop_nonce')).toStrictEqual([
			{ scheme: 'bearer', params: { realm: 'x' } },
			{ scheme: 'dpop', params: {} },
		]);
	});

	it('returns the params parsed before a truncated value', () => {
		expect(parseWithin('DPoP error="use_dpop_nonce", error_description=')).toStrictEqual([
			{ scheme: 'dpop', params: { error: 'use_dpop_nonce' } },
		]);
	});

	it.each([
		'=',
		'"',
		'\\',
		',',
		'   ',
		'DPoP',
		'DPoP ',
		'DPoP =',
		'DPoP ==',
		'DPoP error',
		'DPoP error=',
		'DPoP error="',
		'DPoP error="\\',
		'DPoP error="abc\\"',
		'DPoP ,error="use_dpop_nonce"',
		'DPoP error="x" junk',
		'DPoP nonce=abc=, error=use_dpop_nonce',
		'DPoP error=use_dpop_nonce=',
		'= DPoP error="use_dpop_nonce"',
		'"DPoP" error="use_dpop_nonce"',
		'a b c d e f',
		'DPoP error=="x"',
		'DPoP error=,,,',
		'\u0000\u00ff\ud800',
	])('never throws or hangs on malformed input %j', (header) => {
		const challenges = parseWithin(header);
		expect(Array.isArray(challenges)).toBe(true);
		for (const challenge of challenges) {
			expect(challenge.scheme).toMatch(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/);
			expect(typeof challenge.params).toBe('object');
		}
	});

	it('never throws or hangs on random input', () => {
		// deterministic xorshift, so a failure can be reproduced
		let seed = 0x2545f491;
		const random = (n: number): number => {
			seed ^= seed << 13;
			seed ^= seed >>> 17;
			seed ^= seed << 5;
			return (seed >>> 0) % n;
		};
		const pieces = [
			'DPoP',
			'Bearer',
			'error',
			'use_dpop_nonce',
			'=',
			'==',
			'"',
			'\\',
			',',
			' ',
			'\t',
			'a',
			'x=',
		];
		for (let i = 0; i < 2000; i++) {
			let header = '';
			const length = random(12);
			for (let j = 0; j < length; j++) {
				header += pieces[random(pieces.length)];
			}
			const challenges = parseWithin(header);
			expect(Array.isArray(challenges), header).toBe(true);
		}
	});
});
