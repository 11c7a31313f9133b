import { describe, expect, it } from 'vitest';

import { DiscoveryError } from './discovery-error.ts';
import { protectedResourceMetadata } from './test-utils/metadata-test-server.ts';
import { validateProtectedResourceMetadata } from './validate-protected-resource-metadata.ts';

const PDS = 'https://pds.example';
const URL_ = `${PDS}/.well-known/oauth-protected-resource`;

describe('validateProtectedResourceMetadata', () => {
	it('accepts the reference PDS metadata and returns it whole', () => {
		const document = protectedResourceMetadata(PDS, 'https://as.example');
		expect(validateProtectedResourceMetadata(document, { resource: PDS, url: URL_ })).toEqual(document);
	});

	it('refuses an http issuer without allowHttp, and accepts it with', () => {
		const document = protectedResourceMetadata(PDS, 'http://127.0.0.1:2583');
		let error: unknown;
		try {
			validateProtectedResourceMetadata(document, { resource: PDS, url: URL_ });
		} catch (caught) {
			error = caught;
		}
		expect(error).toBeInstanceOf(DiscoveryError);
		expect((error as DiscoveryError).message).toContain('"authorization_servers[0]" must be an https URL');
		expect(() =>
			validateProtectedResourceMetadata(document, { resource: PDS, url: URL_, allowHttp: true }),
		).not.toThrow();
	});
});
