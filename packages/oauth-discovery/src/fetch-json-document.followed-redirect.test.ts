import { describe, expect, it } from 'vitest';

import { DiscoveryError } from './discovery-error.ts';
import { type FetchFunction, fetchJsonDocument } from './fetch-json-document.ts';

describe('fetchJsonDocument, an app fetch that follows redirects whatever redirect: manual says', () => {
	it("refuses another server's document, reached through a redirect, as a redirect", async () => {
		const following: FetchFunction = async () => {
			// the PDS's well-known redirected elsewhere, and the app's fetch followed it
			const response = Response.json({
				resource: 'https://pds.example',
				authorization_servers: ['https://evil.example'],
			});
			Object.defineProperty(response, 'redirected', { value: true });
			Object.defineProperty(response, 'url', { value: 'https://evil.example/doc.json' });
			return response;
		};
		const error = await fetchJsonDocument('https://pds.example/.well-known/oauth-protected-resource', {
			maxBytes: 1024,
			fetch: following,
		}).then(
			() => undefined,
			(err: unknown) => err,
		);
		expect(error).toBeInstanceOf(DiscoveryError);
		expect((error as DiscoveryError).code).toBe('redirect');
	});
});
