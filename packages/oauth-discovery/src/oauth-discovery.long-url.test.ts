import { describe, expect, it } from 'vitest';

import { AUTHORIZATION_SERVER_METADATA_PATH } from './constants.ts';
import { DiscoveryError } from './discovery-error.ts';
import { OAuthDiscovery } from './oauth-discovery.ts';

// an issuer origin long enough that its metadata URL passes the 256 characters messages show
const ISSUER = `https://${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example`;
const URL_OF_METADATA = ISSUER + AUTHORIZATION_SERVER_METADATA_PATH;

const failure = (fetch: typeof globalThis.fetch) =>
	new OAuthDiscovery({ fetch })
		.resolveAuthorizationServer(ISSUER)
		.then(() => expect.unreachable('resolved'))
		.catch((error: unknown) => {
			expect(error).toBeInstanceOf(DiscoveryError);
			return error as DiscoveryError;
		});

const json = (body: unknown, status = 200) =>
	new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * a caller matches `DiscoveryError.url` to the document it asked for (the client tells its
 * issuer's own failure from an identity failure so): the field is the whole URL, and only the
 * message shortens it.
 */
describe('a DiscoveryError about a document whose URL is longer than a message shows', () => {
	it('a network failure carries the whole URL', async () => {
		expect(URL_OF_METADATA.length).toBeGreaterThan(256);
		const error = await failure(async () => {
			throw new TypeError('fetch failed');
		});
		expect(error).toMatchObject({ code: 'network', transient: true, url: URL_OF_METADATA });
		expect(error.message).toContain('…');
		expect(error.message).not.toContain(URL_OF_METADATA);
	});

	it('a status carries the whole URL', async () => {
		const error = await failure(async () => json({}, 503));
		expect(error).toMatchObject({ code: 'bad_status', status: 503, url: URL_OF_METADATA });
		expect(error.message).toMatch(/… answered with status 503/);
	});

	it('a document that breaks the profile carries the whole URL', async () => {
		const error = await failure(async () => json({ issuer: 'https://other.example' }));
		expect(error).toMatchObject({ url: URL_OF_METADATA });
		expect(error.message).not.toContain(URL_OF_METADATA);
	});
});
