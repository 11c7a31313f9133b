import { describe, expect, it } from 'vitest';

import { createDpopFetch } from './create-dpop-fetch.ts';
import { generateDpopKey } from './dpop-key.ts';

const payloadOf = (jwt: string): Record<string, unknown> =>
	JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));

describe('createDpopFetch with a `now` that does not give milliseconds since the epoch', () => {
	// a proof whose iat is null (NaN in JSON) is refused by every server, as invalid_dpop_proof:
	// the request must fail here, naming the option, rather than be sent
	it.each([
		['NaN', () => Number.NaN],
		['undefined', () => undefined as unknown as number],
		['an invalid Date', () => new Date('garbage') as unknown as number],
		['a Date', () => new Date() as unknown as number],
		['Infinity', () => Number.POSITIVE_INFINITY],
		['negative', () => -5_000],
	])('sends no proof with a bad iat: now() gives %s', async (_label, now) => {
		const key = await generateDpopKey();
		const sent: Record<string, unknown>[] = [];
		const fetch = async (_input: string | URL | Request, init?: RequestInit) => {
			const proof = new Headers(init?.headers).get('dpop');
			if (proof) sent.push(payloadOf(proof));
			return new Response('{}', { status: 200 });
		};
		const dpopFetch = createDpopFetch({ key, fetch, now });
		const outcome = await dpopFetch('https://pds.example/xrpc/x').then(
			() => 'sent',
			(err: unknown) => err,
		);
		expect(sent.map((payload) => payload.iat)).toEqual([]);
		expect(outcome).toBeInstanceOf(TypeError);
		expect((outcome as Error).message).toMatch(/now/);
	});
});
