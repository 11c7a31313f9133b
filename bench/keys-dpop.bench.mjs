// DPoP proofs and client assertions beside their floor: one raw ES256 signature over the same
// number of bytes, with WebCrypto and with node:crypto; and a new DPoP key, made and exported as a
// sign-in does, both ways; and the SHA-256 of an access token (a restored session's ath, and as
// costly as a sign-in's PKCE challenge), in WebCrypto and as the facade hashes it, in node:crypto.
// run: pnpm bench keys-dpop
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';

import { createDpopProof, exportDpopKey, generateDpopKey } from '@atcute/oauth-dpop';
import { createClientAssertion, generatePrivateKey, sha256Base64url } from '@atcute/oauth-keys';
import { createNodeSigner } from '@atcute/oauth-node-client';
import { SignJWT } from 'jose';

import { measureOp, printTable } from './lib/measure.mjs';

const { subtle } = globalThis.crypto;

const webKey = await generateDpopKey();
const nodeKey = await generateDpopKey(undefined, { createSigner: createNodeSigner });
const clientKey = await generatePrivateKey('main');
const nodeClientKey = await generatePrivateKey('main', 'ES256', { createSigner: createNodeSigner });

const proofOptions = {
	htm: 'GET',
	htu: 'https://pds.example.com/xrpc/app.bsky.feed.getTimeline?limit=50',
	nonce: 'nonce-value-from-the-server-1234567890',
	ath: 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo',
};

// the floor gets the same number of bytes as a real proof's signing input
const sample = await createDpopProof(webKey, proofOptions);
const signingInput = new TextEncoder().encode(sample.slice(0, sample.lastIndexOf('.')));
const nodeKeyObject = createPrivateKey({
	key: await subtle.exportKey('jwk', webKey.cryptoKey),
	format: 'jwk',
});

const assertionOptions = {
	clientId: 'https://app.example.com/oauth-client-metadata.json',
	audience: 'https://bsky.social',
};

const rows = [];
rows.push(
	await measureOp('raw ES256 sign, WebCrypto', () =>
		subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, webKey.cryptoKey, signingInput),
	),
);
rows.push(
	await measureOp('raw ES256 sign, node:crypto', () =>
		sign('sha256', signingInput, { key: nodeKeyObject, dsaEncoding: 'ieee-p1363' }),
	),
);
rows.push(await measureOp('DPoP proof, WebCrypto signer', () => createDpopProof(webKey, proofOptions)));
rows.push(await measureOp('DPoP proof, node:crypto signer', () => createDpopProof(nodeKey, proofOptions)));
rows.push(
	await measureOp('DPoP proof, jose SignJWT (reference)', () =>
		new SignJWT({
			htm: proofOptions.htm,
			htu: proofOptions.htu,
			nonce: proofOptions.nonce,
			ath: proofOptions.ath,
			jti: crypto.randomUUID(),
		})
			.setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: webKey.publicJwk })
			.setIssuedAt()
			.sign(webKey.cryptoKey),
	),
);
rows.push(
	await measureOp('client assertion, WebCrypto signer', () =>
		createClientAssertion(clientKey, assertionOptions),
	),
);
rows.push(
	await measureOp('client assertion, node:crypto signer', () =>
		createClientAssertion(nodeClientKey, assertionOptions),
	),
);
// a sign-in's DPoP key: made, then exported to be stored with the session
rows.push(
	await measureOp('new DPoP key, generated and exported, WebCrypto', async () =>
		exportDpopKey(await generateDpopKey()),
	),
);
rows.push(
	await measureOp('new DPoP key, generated and exported, node:crypto', async () =>
		exportDpopKey(await generateDpopKey(undefined, { createSigner: createNodeSigner })),
	),
);

// an access token's ath: a fresh token each time, as each restored session hashes its own
const tokens = Array.from({ length: 64 }, () => randomBytes(675).toString('base64url'));
let next = 0;
const token = () => tokens[next++ & 63];
rows.push(await measureOp('ath of a 900-character token, WebCrypto', () => sha256Base64url(token())));
rows.push(
	await measureOp('ath of a 900-character token, node:crypto (the facade)', () =>
		createHash('sha256').update(token(), 'utf8').digest('base64url'),
	),
);

printTable(
	`DPoP proof and client assertion (${signingInput.byteLength}-byte signing input)`,
	rows,
	'raw ES256 sign, WebCrypto',
);
