import { describe, expect, it } from 'vitest';

import { neverConnected } from './never-connected.ts';

/** a fetch's failure as Node's fetch and the Node facade's transport shape it: `cause` holds the socket's error. */
const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });
const withCode = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('neverConnected', () => {
	it.each([
		'ECONNREFUSED',
		'ENOTFOUND',
		'EAI_AGAIN',
		'EHOSTUNREACH',
		'ENETUNREACH',
		'UND_ERR_CONNECT_TIMEOUT',
	])('reads %s on the cause chain as a connection never made', (code) => {
		expect(neverConnected(fetchFailed(withCode(code)))).toBe(true);
		// happy eyeballs: Node's AggregateError of every address tried carries the code too
		expect(neverConnected(fetchFailed(Object.assign(new AggregateError([withCode(code)]), { code })))).toBe(
			true,
		);
	});

	// met through Node's fetch and the Node facade's transport on loopback TLS servers: a
	// certificate without serverAuth, a plain HTTP server on an https port, TLS 1.0 only, h2 only,
	// a client certificate required (TLS 1.2, TLS 1.3)
	it.each([
		'INVALID_PURPOSE',
		'ERR_SSL_WRONG_VERSION_NUMBER',
		'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
		'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
		'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
		'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
	])(
		'reads %s, a TLS handshake that failed before the request was read, as a connection never made',
		(code) => {
			expect(neverConnected(fetchFailed(withCode(code)))).toBe(true);
		},
	);

	it.each(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ETIMEDOUT'])(
		'does not read %s, which can come once the request went out, as one',
		(code) => {
			expect(neverConnected(fetchFailed(withCode(code)))).toBe(false);
		},
	);

	it('reads a code deep in the chain, and nothing from values that are not errors', () => {
		expect(neverConnected(fetchFailed(new Error('wrapped', { cause: withCode('ECONNREFUSED') })))).toBe(true);
		expect(neverConnected(new TypeError('fetch failed'))).toBe(false);
		expect(neverConnected('ECONNREFUSED')).toBe(false);
		expect(neverConnected(undefined)).toBe(false);
		expect(neverConnected({ code: 42 })).toBe(false);
	});
});
