// values the tests store: a realistic session whose secrets are easy to search for.
import { generateStoreKey } from '../generate-store-key.ts';
import type { StoreKey } from '../store-key.ts';

/** the secrets inside `session`, each of which must never appear in a stored entry. */
export const SECRETS: { accessToken: string; refreshToken: string; dpopD: string } = {
	accessToken: 'eyJhbGciOiJFUzI1NiJ9.ACCESS-TOKEN-c2VjcmV0LWFjY2Vzcw.c2lnbmF0dXJl',
	refreshToken: 'ref-REFRESH-TOKEN-5f1c4a3e9b2d4c7a8e6f0a1b2c3d4e5f',
	dpopD: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
};

/** a stored session as the OAuth client writes it. */
/** the shape of `session()`. */
export interface TestSession {
	dpopKey: Record<string, string>;
	authMethod: { method: string; kid?: string };
	tokenSet: Record<string, string | number> & { access_token: string; sub: string };
}

export const session = (
	sub = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
	method = 'private_key_jwt',
): TestSession => ({
	dpopKey: {
		kty: 'EC',
		crv: 'P-256',
		x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
		y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
		d: SECRETS.dpopD,
		alg: 'ES256',
	},
	authMethod: method === 'none' ? { method } : { method, kid: 'client-key-1' },
	tokenSet: {
		iss: 'https://bsky.social',
		sub,
		aud: 'https://pds.example.com',
		scope: 'atproto transition:generic',
		access_token: SECRETS.accessToken,
		refresh_token: SECRETS.refreshToken,
		token_type: 'DPoP',
		expires_at: 1_767_225_600_000,
	},
});

/** two keys: the ring is [newer, older]. */
export const KEY_A: StoreKey = generateStoreKey('key-a');
export const KEY_B: StoreKey = generateStoreKey('key-b');

/** `text` with its first character changed: a flipped bit in a ciphertext, say. */
export const tamper = (text: string): string => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
