import { describe, expect, it } from 'vitest';

import { pdsEndpointOf } from './pds-endpoint.ts';

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const docWith = (service: unknown[]) =>
	({ '@context': [], id: did, service }) as unknown as Parameters<typeof pdsEndpointOf>[0];
const pds = (fields: Record<string, unknown>) => ({
	id: '#atproto_pds',
	type: 'AtprotoPersonalDataServer',
	serviceEndpoint: 'https://pds.example.com',
	...fields,
});

describe('pdsEndpointOf', () => {
	it('reads the #atproto_pds service, by relative or absolute id, with its type alone or in a list', () => {
		expect(pdsEndpointOf(docWith([pds({})]))).toBe('https://pds.example.com');
		expect(pdsEndpointOf(docWith([pds({ id: `${did}#atproto_pds` })]))).toBe('https://pds.example.com');
		expect(pdsEndpointOf(docWith([pds({ type: ['Other', 'AtprotoPersonalDataServer'] })]))).toBe(
			'https://pds.example.com',
		);
		expect(pdsEndpointOf(docWith([pds({ serviceEndpoint: 'http://127.0.0.1:2583' })]))).toBe(
			'http://127.0.0.1:2583',
		);
	});

	it('skips services with another id or type, or an endpoint that is not an http(s) origin', () => {
		for (const service of [
			pds({ id: '#atproto_labeler' }),
			pds({ id: 'did:plc:someoneelse#atproto_pds' }),
			pds({ type: 'AtprotoLabeler' }),
			pds({ serviceEndpoint: 'https://pds.example.com/xrpc' }),
			pds({ serviceEndpoint: 'https://pds.example.com/?a=b' }),
			pds({ serviceEndpoint: 'ftp://pds.example.com' }),
			pds({ serviceEndpoint: 'not a url' }),
			pds({ serviceEndpoint: { uri: 'https://pds.example.com' } }),
		]) {
			expect(pdsEndpointOf(docWith([service]))).toBeUndefined();
		}
		expect(pdsEndpointOf(docWith([]))).toBeUndefined();
		expect(pdsEndpointOf({ id: did } as Parameters<typeof pdsEndpointOf>[0])).toBeUndefined();
	});

	it('skips an endpoint with credentials, or an empty query or fragment: scheme, host and port alone', () => {
		for (const serviceEndpoint of [
			'https://user:pass@pds.example.com',
			'https://user@pds.example.com',
			'https://pds.example.com/?',
			'https://pds.example.com#',
		]) {
			expect(pdsEndpointOf(docWith([pds({ serviceEndpoint })])), serviceEndpoint).toBeUndefined();
		}
		// a later entry that is one is taken, not the credentials sent on to the discovery
		expect(
			pdsEndpointOf(
				docWith([
					pds({ serviceEndpoint: 'https://user:pass@pds.example.com' }),
					pds({ serviceEndpoint: 'https://second.example' }),
				]),
			),
		).toBe('https://second.example');
	});

	it('takes the first valid one', () => {
		expect(
			pdsEndpointOf(
				docWith([pds({ serviceEndpoint: 'bad' }), pds({ serviceEndpoint: 'https://second.example' })]),
			),
		).toBe('https://second.example');
	});
});
