import { describe, expect, it } from 'vitest';

import { DiscoveryError } from './discovery-error.ts';
import { authorizationServerMetadata } from './test-utils/metadata-test-server.ts';
import { validateAuthorizationServerMetadata } from './validate-authorization-server-metadata.ts';

const ISSUER = 'https://as.example';
const URL_ = `${ISSUER}/.well-known/oauth-authorization-server`;

const refusal = (fn: () => unknown): DiscoveryError => {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(DiscoveryError);
		return error as DiscoveryError;
	}
	throw new Error('expected a DiscoveryError');
};

describe('validateAuthorizationServerMetadata', () => {
	it('accepts the reference server metadata and returns it whole', () => {
		const document = authorizationServerMetadata(ISSUER);
		const metadata = validateAuthorizationServerMetadata(document, { issuer: ISSUER, url: URL_ });
		expect(metadata).toEqual(document);
	});

	it('returns a new object, in which a "__proto__" field stays a field', () => {
		// JSON.parse makes "__proto__" an own field; a copy by assignment would make it the prototype
		const text = JSON.stringify(authorizationServerMetadata(ISSUER));
		const document = JSON.parse(`{"__proto__":["x"],${text.slice(1)}`);
		const metadata = validateAuthorizationServerMetadata(document, { issuer: ISSUER, url: URL_ });
		expect(metadata).not.toBe(document);
		expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
		expect(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value).toEqual(['x']);
	});

	it.each([
		'authorization_endpoint',
		'token_endpoint',
		'pushed_authorization_request_endpoint',
		'revocation_endpoint',
	])('refuses an http %s without allowHttp', (field) => {
		const document = authorizationServerMetadata(ISSUER);
		document[field] = 'http://as.example/oauth/x';
		const error = refusal(() => validateAuthorizationServerMetadata(document, { issuer: ISSUER, url: URL_ }));
		expect(error.code).toBe('invalid_metadata');
		expect(error.message).toContain(`"${field}" must be an https URL`);
	});

	it.each([
		['token_endpoint_auth_signing_alg_values_supported', ['ES256', 'none'], 'must not include "none"'],
		['require_request_uri_registration', false, 'must not be false'],
	])("refuses %s against the atproto profile's must not", (field, value, problem) => {
		const document = authorizationServerMetadata(ISSUER);
		document[field] = value;
		const error = refusal(() => validateAuthorizationServerMetadata(document, { issuer: ISSUER, url: URL_ }));
		expect(error.code).toBe('invalid_metadata');
		expect(error.message).toContain(`"${field}" ${problem}`);
	});

	it('takes require_request_uri_registration true or absent (RFC 8414: absent is true)', () => {
		for (const value of [true, undefined]) {
			const document = authorizationServerMetadata(ISSUER);
			document.require_request_uri_registration = value;
			expect(() =>
				validateAuthorizationServerMetadata(document, { issuer: ISSUER, url: URL_ }),
			).not.toThrow();
		}
	});

	it('accepts http endpoints with allowHttp', () => {
		const issuer = 'http://127.0.0.1:2583';
		const document = authorizationServerMetadata(issuer);
		expect(() =>
			validateAuthorizationServerMetadata(document, { issuer, url: URL_, allowHttp: true }),
		).not.toThrow();
	});

	it('refuses an endpoint with credentials without repeating them', () => {
		const document = authorizationServerMetadata(ISSUER);
		document.token_endpoint = 'https://user:s3cret@as.example/oauth/token';
		const error = refusal(() => validateAuthorizationServerMetadata(document, { issuer: ISSUER, url: URL_ }));
		expect(error.message).toContain('"token_endpoint"');
		expect(error.message).not.toContain('s3cret');
	});

	it('checks protected_resources against the resource it is given', () => {
		const document = authorizationServerMetadata(ISSUER, ['https://pds.example']);
		expect(() =>
			validateAuthorizationServerMetadata(document, {
				issuer: ISSUER,
				url: URL_,
				resource: 'https://pds.example',
			}),
		).not.toThrow();
		const error = refusal(() =>
			validateAuthorizationServerMetadata(document, {
				issuer: ISSUER,
				url: URL_,
				resource: 'https://other.example',
			}),
		);
		expect(error.code).toBe('mismatch');
		expect(error.message).toContain('"protected_resources" must include "https://other.example"');
	});

	it('refuses a value that is not an object', () => {
		const error = refusal(() => validateAuthorizationServerMetadata([], { issuer: ISSUER, url: URL_ }));
		expect(error.code).toBe('invalid_metadata');
		expect(error.message).toContain('authorization server metadata must be a JSON object');
	});

	it('shortens a long value it repeats', () => {
		const document = authorizationServerMetadata(ISSUER);
		document.issuer = `https://${'a'.repeat(10_000)}.example`;
		const error = refusal(() => validateAuthorizationServerMetadata(document, { issuer: ISSUER, url: URL_ }));
		expect(error.message.length).toBeLessThan(1_000);
	});
});
