import { describe, expect, it } from 'vitest';

import { DiscoveryError } from './discovery-error.ts';
import { fetchJsonDocument } from './fetch-json-document.ts';
import { OAuthDiscovery } from './oauth-discovery.ts';

const failure = async (promise: Promise<unknown>): Promise<DiscoveryError> => {
	try {
		await promise;
	} catch (err) {
		return err as DiscoveryError;
	}
	throw new Error('expected a rejection');
};

// a URL with credentials that does not parse (a bad port, a space in the host): the refusal must
// not repeat its password, as the refusal of one that parses does not
describe('an unparsable URL with credentials', () => {
	const urls = [
		'https://alice:hunter2secret@pds.example.com:99999/doc',
		'https://alice:hunter2secret@pds example.com/doc',
		// forms the WHATWG parser reads the same way (leading space, extra or back slashes)
		' https://alice:hunter2secret@pds.example.com:99999/doc',
		'https:///alice:hunter2secret@pds.example.com:99999/doc',
		'https:\\\\alice:hunter2secret@pds.example.com:99999/doc',
	];

	it.each(urls)('fetchJsonDocument(%s) does not repeat the password', async (url) => {
		const error = await failure(fetchJsonDocument(url, { maxBytes: 1000 }));
		expect(error).toBeInstanceOf(DiscoveryError);
		expect(error.code).toBe('invalid_url');
		expect(error.message).not.toContain('hunter2secret');
		expect(error.url).not.toContain('hunter2secret');
	});

	it.each(urls)('resolveFromPds(%s) does not repeat the password', async (url) => {
		const discovery = new OAuthDiscovery();
		const error = await failure(discovery.resolveFromPds(url));
		expect(error.message).not.toContain('hunter2secret');
		expect(String((error as DiscoveryError).url)).not.toContain('hunter2secret');
	});
});
