import { describe, expect, it } from 'vitest';

import { isUseDpopNonceError } from './is-use-dpop-nonce-error.ts';

const USE_DPOP_NONCE_BODY = JSON.stringify({
	error: 'use_dpop_nonce',
	error_description: 'Authorization server requires nonce in DPoP proof',
});

const jsonResponse = (status: number, body: string, contentType = 'application/json'): Response => {
	return new Response(body, { status, headers: { 'content-type': contentType } });
};

const challengeResponse = (status: number, challenge?: string): Response => {
	const headers = new Headers();
	if (challenge !== undefined) headers.set('www-authenticate', challenge);
	return new Response(null, { status, headers });
};

describe('isUseDpopNonceError', () => {
	describe('authorization server (400 JSON)', () => {
		it('is true for a 400 JSON use_dpop_nonce error, leaving the body readable', async () => {
			const response = jsonResponse(400, USE_DPOP_NONCE_BODY);
			expect(await isUseDpopNonceError(response)).toBe(true);
			expect(response.bodyUsed).toBe(false);
			expect(await response.text()).toBe(USE_DPOP_NONCE_BODY);
		});

		it('leaves the body readable when the answer is false', async () => {
			const body = JSON.stringify({ error: 'invalid_grant' });
			const response = jsonResponse(400, body);
			expect(await isUseDpopNonceError(response)).toBe(false);
			expect(await response.text()).toBe(body);
		});

		it('is false for a 400 JSON body with another error', async () => {
			expect(await isUseDpopNonceError(jsonResponse(400, '{"error":"invalid_dpop_proof"}'))).toBe(false);
		});

		it('is false for a 400 whose body names use_dpop_nonce in another field', async () => {
			const body = JSON.stringify({ error: 'invalid_request', error_description: 'use_dpop_nonce' });
			expect(await isUseDpopNonceError(jsonResponse(400, body))).toBe(false);
		});

		it('is false for a 400 text/plain body', async () => {
			expect(await isUseDpopNonceError(jsonResponse(400, USE_DPOP_NONCE_BODY, 'text/plain'))).toBe(false);
		});

		it('is false for a 400 without a content type', async () => {
			const response = new Response(new TextEncoder().encode(USE_DPOP_NONCE_BODY), { status: 400 });
			expect(response.headers.get('content-type')).toBeNull();
			expect(await isUseDpopNonceError(response)).toBe(false);
		});

		it('is true for application/json with a charset parameter', async () => {
			const response = jsonResponse(400, USE_DPOP_NONCE_BODY, 'application/json; charset=utf-8');
			expect(await isUseDpopNonceError(response)).toBe(true);
		});

		it('is true for an uppercase JSON content type', async () => {
			const response = jsonResponse(400, USE_DPOP_NONCE_BODY, 'Application/JSON');
			expect(await isUseDpopNonceError(response)).toBe(true);
		});

		it('is true for a +json content type', async () => {
			const response = jsonResponse(400, USE_DPOP_NONCE_BODY, 'application/problem+json');
			expect(await isUseDpopNonceError(response)).toBe(true);
		});

		it('is false for a content type that only starts with application/json', async () => {
			const response = jsonResponse(400, USE_DPOP_NONCE_BODY, 'application/jsonx');
			expect(await isUseDpopNonceError(response)).toBe(false);
		});

		it('is false for a use_dpop_nonce JSON body with a status other than 400', async () => {
			expect(await isUseDpopNonceError(jsonResponse(401, USE_DPOP_NONCE_BODY))).toBe(false);
			expect(await isUseDpopNonceError(jsonResponse(403, USE_DPOP_NONCE_BODY))).toBe(false);
			expect(await isUseDpopNonceError(jsonResponse(500, USE_DPOP_NONCE_BODY))).toBe(false);
		});

		it('is false for a JSON body larger than 16 KiB', async () => {
			const body = JSON.stringify({ error: 'use_dpop_nonce', padding: 'x'.repeat(16 * 1024) });
			const response = jsonResponse(400, body);
			expect(await isUseDpopNonceError(response)).toBe(false);
			expect(await response.text()).toBe(body);
		});

		it('is true for a JSON body just under 16 KiB', async () => {
			const body = JSON.stringify({ error: 'use_dpop_nonce', padding: 'x'.repeat(15 * 1024) });
			expect(await isUseDpopNonceError(jsonResponse(400, body))).toBe(true);
		});

		it('is false when Content-Length announces more than 16 KiB', async () => {
			const response = new Response(USE_DPOP_NONCE_BODY, {
				status: 400,
				headers: { 'content-type': 'application/json', 'content-length': String(17 * 1024) },
			});
			expect(await isUseDpopNonceError(response)).toBe(false);
		});

		it('stops reading a huge body without a Content-Length and answers false', async () => {
			let pulls = 0;
			const encoder = new TextEncoder();
			// 4 MiB in 1 KiB chunks: a reader without a cap would pull all of them
			const huge = new ReadableStream<Uint8Array>({
				pull(controller) {
					pulls++;
					if (pulls === 1) controller.enqueue(encoder.encode('{"error":"use_dpop_nonce","padding":"'));
					else if (pulls < 4096) controller.enqueue(encoder.encode('x'.repeat(1024)));
					else {
						controller.enqueue(encoder.encode('"}'));
						controller.close();
					}
				},
			});
			const response = new Response(huge, {
				status: 400,
				headers: { 'content-type': 'application/json' },
			});
			expect(await isUseDpopNonceError(response)).toBe(false);
			expect(pulls).toBeLessThan(100);
		});

		it('is false for a body that is malformed JSON', async () => {
			expect(await isUseDpopNonceError(jsonResponse(400, '{"error":"use_dpop_nonce"'))).toBe(false);
			expect(await isUseDpopNonceError(jsonResponse(400, 'use_dpop_nonce'))).toBe(false);
		});

		it('is false for JSON that is not an object with an error', async () => {
			expect(await isUseDpopNonceError(jsonResponse(400, 'null'))).toBe(false);
			expect(await isUseDpopNonceError(jsonResponse(400, '"use_dpop_nonce"'))).toBe(false);
			expect(await isUseDpopNonceError(jsonResponse(400, '["use_dpop_nonce"]'))).toBe(false);
			expect(await isUseDpopNonceError(jsonResponse(400, '{"error":["use_dpop_nonce"]}'))).toBe(false);
		});

		it('is false for a 400 JSON response without a body', async () => {
			const response = new Response(null, { status: 400, headers: { 'content-type': 'application/json' } });
			expect(await isUseDpopNonceError(response)).toBe(false);
		});

		it('is false for a body stream that errors', async () => {
			const broken = new ReadableStream<Uint8Array>({
				start(controller) {
					controller.enqueue(new TextEncoder().encode('{"error":'));
					controller.error(new Error('connection reset'));
				},
			});
			const response = new Response(broken, {
				status: 400,
				headers: { 'content-type': 'application/json' },
			});
			expect(await isUseDpopNonceError(response)).toBe(false);
		});
	});

	describe('resource server (401 WWW-Authenticate)', () => {
		it('is true for a 401 DPoP challenge with error use_dpop_nonce', async () => {
			const response = challengeResponse(
				401,
				'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
			);
			expect(await isUseDpopNonceError(response)).toBe(true);
		});

		it('is true whatever the case of the scheme and param name', async () => {
			expect(await isUseDpopNonceError(challengeResponse(401, 'dpop Error="use_dpop_nonce"'))).toBe(true);
		});

		it('is true for an unquoted error value', async () => {
			expect(await isUseDpopNonceError(challengeResponse(401, 'DPoP error=use_dpop_nonce'))).toBe(true);
		});

		it('is true when the DPoP challenge follows another one', async () => {
			const response = challengeResponse(
				401,
				'Bearer realm="x", DPoP algs="ES256 PS256", error="use_dpop_nonce"',
			);
			expect(await isUseDpopNonceError(response)).toBe(true);
		});

		it('is true when the DPoP challenge comes in a second header line', async () => {
			const headers = new Headers();
			headers.append('www-authenticate', 'Bearer realm="x"');
			headers.append('www-authenticate', 'DPoP error="use_dpop_nonce"');
			expect(await isUseDpopNonceError(new Response(null, { status: 401, headers }))).toBe(true);
		});

		it('is false when the use_dpop_nonce error belongs to the Bearer scheme', async () => {
			expect(await isUseDpopNonceError(challengeResponse(401, 'Bearer error="use_dpop_nonce"'))).toBe(false);
		});

		it('is false for a DPoP challenge with another error', async () => {
			expect(await isUseDpopNonceError(challengeResponse(401, 'DPoP error="invalid_token"'))).toBe(false);
		});

		it('is false when use_dpop_nonce is only the value of another param', async () => {
			const response = challengeResponse(401, 'DPoP error_description="use_dpop_nonce"');
			expect(await isUseDpopNonceError(response)).toBe(false);
		});

		it('is false when use_dpop_nonce only appears inside a quoted description', async () => {
			const response = challengeResponse(
				401,
				'DPoP error="invalid_token", error_description="not error=use_dpop_nonce"',
			);
			expect(await isUseDpopNonceError(response)).toBe(false);
		});

		it('is false for a 401 without WWW-Authenticate, even with a use_dpop_nonce JSON body', async () => {
			expect(await isUseDpopNonceError(challengeResponse(401))).toBe(false);
			expect(await isUseDpopNonceError(jsonResponse(401, USE_DPOP_NONCE_BODY))).toBe(false);
		});

		it('is false for a malformed WWW-Authenticate header', async () => {
			expect(await isUseDpopNonceError(challengeResponse(401, 'DPoP error="use_dpop_nonce'))).toBe(false);
		});

		it('is false for a DPoP challenge on a status other than 401', async () => {
			expect(await isUseDpopNonceError(challengeResponse(403, 'DPoP error="use_dpop_nonce"'))).toBe(false);
			expect(await isUseDpopNonceError(challengeResponse(400, 'DPoP error="use_dpop_nonce"'))).toBe(false);
		});
	});

	it('is false for a 200 response, whatever it carries', async () => {
		const response = new Response(USE_DPOP_NONCE_BODY, {
			status: 200,
			headers: { 'content-type': 'application/json', 'www-authenticate': 'DPoP error="use_dpop_nonce"' },
		});
		expect(await isUseDpopNonceError(response)).toBe(false);
		expect(await response.text()).toBe(USE_DPOP_NONCE_BODY);
	});
});
