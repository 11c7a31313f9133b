import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { InvalidResponseError } from './errors.ts';
import { PdsNonceSightings } from './internal/pds-nonce-sightings.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** an answer another server gave, reached by a redirect the app's fetch followed whatever it was told. */
const fromElsewhere = (response: Response): Response => {
	Object.defineProperty(response, 'redirected', { value: true });
	Object.defineProperty(response, 'url', { value: 'https://sso.proxy.example/login' });
	return response;
};

describe('answers of another server, through a redirect the app fetch followed', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		({ server, alice } = env);
	});

	it("does not send a refresh again on another server's use_dpop_nonce", async () => {
		let redirected = false;
		let tokenRequests = 0;
		const following: typeof fetch = async (input, init) => {
			if (String(input) === `${server.issuer}/oauth/token`) tokenRequests++;
			if (redirected && String(input) === `${server.issuer}/oauth/token`) {
				return fromElsewhere(
					Response.json(
						{ error: 'use_dpop_nonce' },
						{ status: 400, headers: { 'dpop-nonce': 'the-proxy-nonce' } },
					),
				);
			}
			return fetch(input, init);
		};
		const { client } = await createTestClient(server, { fetch: following });
		await signIn(server, client, alice.did);
		redirected = true;
		tokenRequests = 0;
		const error = await client.restore(alice.did, { refresh: true }).then(
			() => undefined,
			(err: unknown) => err,
		);
		expect(error).toBeInstanceOf(InvalidResponseError);
		// the refresh token and a new client assertion went through the redirect once, not twice
		expect(tokenRequests).toBe(1);
	});
});

describe('PdsNonceSightings', () => {
	it("does not take another server's answer to a probe for the PDS's: the PDS is not marked nonceless", () => {
		const sightings = new PdsNonceSightings(() => 1_000_000);
		const answer = fromElsewhere(new Response('<html>login</html>', { status: 200 }));
		sightings.noteProbe('https://pds.example', answer);
		// the PDS never answered: a stream there still needs a probe
		expect(sightings.needsProbe('https://pds.example', true)).toBe(true);
	});
});
