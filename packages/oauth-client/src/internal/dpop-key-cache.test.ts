import { type DpopPrivateJwk, exportDpopKey, generateDpopKey } from '@atcute/oauth-dpop';
import { describe, expect, it } from 'vitest';

import { DpopKeyCache } from './dpop-key-cache.ts';

const newJwk = async () =>
	(await exportDpopKey(await generateDpopKey())) as DpopPrivateJwk & { x: string; y: string };

describe('DpopKeyCache', () => {
	it('imports a key once, however many times it is asked for, from copies of its JWK', async () => {
		const cache = new DpopKeyCache(undefined);
		const jwk = await newJwk();
		const first = cache.get(jwk);
		expect(cache.get({ ...jwk })).toBe(first);
		expect((await first).publicJwk).toMatchObject({ x: jwk.x, y: jwk.y });
	});

	it('keeps the 1,000 keys used most recently: a key asked for again stays, the oldest goes', async () => {
		const cache = new DpopKeyCache(undefined);
		const jwks = await Promise.all(Array.from({ length: 1001 }, newJwk));
		const imported = jwks.slice(0, 1000).map((jwk) => cache.get(jwk));
		// the first key is used again, so the second is now the least recently used
		expect(cache.get(jwks[0]!)).toBe(imported[0]);
		cache.get(jwks[1000]!);
		expect(cache.get(jwks[0]!)).toBe(imported[0]);
		expect(cache.get(jwks[2]!)).toBe(imported[2]);
		// the second was dropped: asking for it imports it again
		const again = cache.get(jwks[1]!);
		expect(again).not.toBe(imported[1]);
		await Promise.all([...imported, again]);
	});

	it('does not remember a failed import: the next request tries again', async () => {
		const cache = new DpopKeyCache(undefined);
		const jwk = await newJwk();
		const broken = { ...jwk, x: jwk.y };
		const failed = cache.get(broken);
		await expect(failed).rejects.toThrow();
		const retried = cache.get(broken);
		expect(retried).not.toBe(failed);
		await expect(retried).rejects.toThrow();
	});

	it('forgets a key on request (a session that ended): asked for again, it is imported anew', async () => {
		const cache = new DpopKeyCache(undefined);
		const [jwk, other] = await Promise.all([newJwk(), newJwk()]);
		const first = cache.get(jwk);
		const kept = cache.get(other);
		cache.forget({ ...jwk });
		// nothing to forget, or a value of another shape: no harm done
		cache.forget(undefined);
		cache.forget(null);
		const again = cache.get(jwk);
		expect(again).not.toBe(first);
		expect(cache.get(other)).toBe(kept);
		await Promise.all([first, again, kept]);
	});
});
