import { describe, expect, it } from 'vitest';

import { isInvalidDpopProof } from './is-invalid-dpop-proof.ts';

const PROOF_REFUSAL =
	'{"error":"invalid_dpop_proof","error_description":"\\"iat\\" claim timestamp check failed"}';

const answer = (status: number, body: string | null, headers: Record<string, string> = {}): Response =>
	new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } });

describe('isInvalidDpopProof', () => {
	it("is true for an authorization server's JSON refusal at 400 or 401, leaving the body readable", async () => {
		for (const status of [400, 401]) {
			const response = answer(status, PROOF_REFUSAL);
			expect(await isInvalidDpopProof(response, false)).toBe(true);
			expect(await response.text()).toBe(PROOF_REFUSAL);
		}
	});

	it("is true for a resource server's 401 DPoP challenge", async () => {
		const response = answer(401, null, { 'www-authenticate': 'Bearer, DPoP error="invalid_dpop_proof"' });
		expect(await isInvalidDpopProof(response, false)).toBe(true);
	});

	it('takes a DPoP challenge at its word, without reading the body', async () => {
		const response = answer(401, PROOF_REFUSAL, { 'www-authenticate': 'DPoP error="invalid_token"' });
		// the body is read from a copy: a copy made would throw
		response.clone = () => {
			throw new Error('the body was read');
		};
		expect(await isInvalidDpopProof(response, false)).toBe(false);
	});

	it('is false for other errors, other statuses and bodies that are not JSON', async () => {
		expect(await isInvalidDpopProof(answer(400, '{"error":"invalid_client"}'), false)).toBe(false);
		expect(await isInvalidDpopProof(answer(403, PROOF_REFUSAL), false)).toBe(false);
		expect(await isInvalidDpopProof(answer(500, PROOF_REFUSAL), false)).toBe(false);
		expect(
			await isInvalidDpopProof(answer(400, PROOF_REFUSAL, { 'content-type': 'text/plain' }), false),
		).toBe(false);
		expect(await isInvalidDpopProof(answer(400, 'not json'), false)).toBe(false);
	});

	it("does not read a 400's body for a request with an access token: a resource server refuses proofs with a 401", async () => {
		const response = answer(400, PROOF_REFUSAL);
		response.clone = () => {
			throw new Error('the body was read');
		};
		expect(await isInvalidDpopProof(response, true)).toBe(false);
		// a 401 without a challenge is still read
		expect(await isInvalidDpopProof(answer(401, PROOF_REFUSAL), true)).toBe(true);
	});
});
