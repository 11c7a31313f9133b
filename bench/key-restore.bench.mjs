// what restoring a session's DPoP key costs, in each form a stored P-256 key could take: the
// import, the first signature with the fresh key (OpenSSL 3 moves a key imported as a legacy
// EC_KEY into its provider on first use) and a later one. every import is of a key never seen
// before (each form's pool is imported once per round), CPU time, best of a few rounds, so the
// machine's other load inflates no row. run: pnpm bench key-restore (on any Node version)
import { createECDH, createPrivateKey, sign } from 'node:crypto';

const KEYS = 1000;
const ROUNDS = 5;
const { subtle } = globalThis.crypto;

// keys from ECDH, not KeyObjects: exporting many generated KeyObjects can hang Node 20.20
const jwks = Array.from({ length: KEYS }, () => {
	const ecdh = createECDH('prime256v1');
	const point = ecdh.generateKeys();
	const d = Buffer.concat([Buffer.alloc(32), ecdh.getPrivateKey()]).subarray(-32);
	return {
		kty: 'EC',
		crv: 'P-256',
		x: point.subarray(1, 33).toString('base64url'),
		y: point.subarray(33).toString('base64url'),
		d: d.toString('base64url'),
	};
});
const keyObjects = jwks.map((jwk) => createPrivateKey({ key: jwk, format: 'jwk' }));
const sec1 = keyObjects.map((key) => key.export({ format: 'der', type: 'sec1' }));
const pkcs8 = keyObjects.map((key) => key.export({ format: 'der', type: 'pkcs8' }));
const pem = keyObjects.map((key) => key.export({ format: 'pem', type: 'pkcs8' }));
// RFC 5915 ECPrivateKey without its optional public key: OpenSSL computes the point from d
const sec1Prefix = Buffer.from('30310201010420', 'hex');
const prime256v1 = Buffer.from('a00a06082a8648ce3d030107', 'hex');
const sec1NoPublic = jwks.map((jwk) =>
	Buffer.concat([sec1Prefix, Buffer.from(jwk.d, 'base64url'), prime256v1]),
);
const scalars = jwks.map((jwk) => Buffer.from(jwk.d, 'base64url'));

const nodeForms = {
	'JWK (d, x, y): the stored form': (i) => createPrivateKey({ key: jwks[i], format: 'jwk' }),
	'SEC1 DER': (i) => createPrivateKey({ key: sec1[i], format: 'der', type: 'sec1' }),
	'SEC1 DER, no public key': (i) => createPrivateKey({ key: sec1NoPublic[i], format: 'der', type: 'sec1' }),
	'PKCS#8 DER': (i) => createPrivateKey({ key: pkcs8[i], format: 'der', type: 'pkcs8' }),
	'PKCS#8 PEM': (i) => createPrivateKey(pem[i]),
	// newer Node versions only
	'raw private scalar': (i) =>
		createPrivateKey({
			key: scalars[i],
			format: 'raw-private',
			asymmetricKeyType: 'ec',
			namedCurve: 'P-256',
		}),
};

const data = Buffer.alloc(250, 1);
const cpuPer = async (count, fn) => {
	const start = process.cpuUsage();
	await fn();
	const used = process.cpuUsage(start);
	return (used.user + used.system) / count;
};

const best = new Map();
const record = (name, values) => {
	const row = best.get(name);
	best.set(name, row ? row.map((value, i) => Math.min(value, values[i])) : values);
};

for (let round = 0; round < ROUNDS; round++) {
	for (const [name, load] of Object.entries(nodeForms)) {
		try {
			load(0);
		} catch {
			continue;
		}
		const keys = new Array(KEYS);
		const options = (key) => ({ key, dsaEncoding: 'ieee-p1363' });
		const importCpu = await cpuPer(KEYS, () => {
			for (let i = 0; i < KEYS; i++) keys[i] = load(i);
		});
		const first = await cpuPer(KEYS, () => {
			for (let i = 0; i < KEYS; i++) sign('sha256', data, options(keys[i]));
		});
		const next = await cpuPer(KEYS, () => {
			for (let i = 0; i < KEYS; i++) sign('sha256', data, options(keys[i]));
		});
		record(`node:crypto ${name}`, [importCpu, first, next]);
	}

	const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
	const params = { name: 'ECDSA', hash: 'SHA-256' };
	for (const [name, format, source] of [
		['WebCrypto JWK', 'jwk', jwks],
		['WebCrypto PKCS#8', 'pkcs8', pkcs8],
	]) {
		const keys = new Array(KEYS);
		const importCpu = await cpuPer(KEYS, async () => {
			for (let i = 0; i < KEYS; i++)
				keys[i] = await subtle.importKey(format, source[i], algorithm, false, ['sign']);
		});
		const first = await cpuPer(KEYS, async () => {
			for (let i = 0; i < KEYS; i++) await subtle.sign(params, keys[i], data);
		});
		const next = await cpuPer(KEYS, async () => {
			for (let i = 0; i < KEYS; i++) await subtle.sign(params, keys[i], data);
		});
		record(name, [importCpu, first, next]);
	}
}

const us = (value) => `${value.toFixed(1)} µs`;
console.log(
	`\nrestoring a stored P-256 key (${process.version}, OpenSSL ${process.versions.openssl}; CPU per key, best of ${ROUNDS} rounds of ${KEYS} keys)`,
);
console.table(
	Object.fromEntries(
		[...best].map(([name, [importCpu, first, next]]) => [
			name,
			{
				import: us(importCpu),
				'first sign': us(first),
				'later sign': us(next),
				'import + first sign − later sign': us(importCpu + first - next),
			},
		]),
	),
);
