import { describe, expect, it } from 'vitest';

import { DiscoveryError } from './discovery-error.ts';
import { fetchJsonDocument } from './fetch-json-document.ts';
import { OAuthDiscovery } from './oauth-discovery.ts';

const loose = <T>(value: unknown): T => value as T;

describe('OAuthDiscovery given a URL argument of the wrong type', () => {
	const sent: string[] = [];
	const discovery = new OAuthDiscovery({
		fetch: async (input) => {
			sent.push(String(input));
			throw new Error('no network here');
		},
	});

	for (const [method, call] of [
		['resolveFromPds', (url: unknown) => discovery.resolveFromPds(loose(url))],
		['resolveFromService', (url: unknown) => discovery.resolveFromService(loose(url))],
		['resolveProtectedResource', (url: unknown) => discovery.resolveProtectedResource(loose(url))],
		['resolveAuthorizationServer', (url: unknown) => discovery.resolveAuthorizationServer(loose(url))],
		[
			'fetchJsonDocument',
			(url: unknown) => fetchJsonDocument(loose(url), { maxBytes: 100, fetch: globalThis.fetch }),
		],
	] as const) {
		it(`${method} refuses undefined, null, a number and a plain object with a TypeError naming the URL, not "Cannot read properties"`, async () => {
			for (const [given, kind] of [
				[undefined, 'undefined'],
				[null, 'null'],
				[42, 'number'],
				[{ host: 'pds.example.com' }, 'object'],
			] as const) {
				const error = await call(given).catch((err: unknown) => err);
				expect(error).toBeInstanceOf(TypeError);
				expect((error as Error).message).toMatch(new RegExp(`URL.*must be a string or a URL, got ${kind}`));
			}
			expect(sent).toEqual([]);
		});
	}

	it('keeps the url of a refused issuer given as a URL object a string', async () => {
		const error = await discovery
			.resolveAuthorizationServer(loose(new URL('https://as.example.com')))
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(DiscoveryError);
		expect(typeof (error as DiscoveryError).url).toBe('string');
	});
});
