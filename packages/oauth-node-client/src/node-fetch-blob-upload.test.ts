import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { EmbeddedJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./test-utils/big-upload-child.mjs', import.meta.url));
const MB = 1024 * 1024;
// large enough that a copy of it stands out of the process's other memory
const SIZE = 128 * MB;
const NONCE = 'nonce-1';
const PATH = '/xrpc/com.atproto.repo.uploadBlob';

/** the proof's problem, if any: checked as the test PDS checks one (signature, htm, htu, ath, nonce). */
const proofProblem = async (req: IncomingMessage): Promise<string | undefined> => {
	const { payload } = await jwtVerify(String(req.headers.dpop), EmbeddedJWK, { typ: 'dpop+jwt' });
	if (payload.htm !== req.method || payload.htu !== `http://${req.headers.host}${PATH}`) return 'htu';
	if (payload.ath !== createHash('sha256').update('token').digest('base64url')) return 'ath';
	return payload.nonce === NONCE ? undefined : 'nonce';
};

describe('createNodeFetch: a Blob body (a file opened with openAsBlob)', () => {
	let server: Server;
	let url: string;
	let dir: string;
	let file: string;
	let digest: string;
	const uploads: { length: number; digest: string; declared: string | undefined }[] = [];
	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), 'blob-upload-'));
		file = join(dir, 'video.bin');
		const hash = createHash('sha256');
		const out = createWriteStream(file);
		const chunk = Buffer.alloc(MB);
		for (let i = 0; i < SIZE / MB; i++) {
			chunk.fill(i);
			hash.update(chunk);
			if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
		}
		await new Promise<void>((resolve) => out.end(() => resolve()));
		digest = hash.digest('hex');
		server = createServer(async (req, res) => {
			// refused before the body is read, as a PDS checks the proof first: the first attempt
			// carries no nonce (none known yet) and is refused with use_dpop_nonce
			const problem = await proofProblem(req).catch(String);
			if (problem !== undefined) {
				const error = problem === 'nonce' ? 'use_dpop_nonce' : 'invalid_dpop_proof';
				res.writeHead(401, { 'www-authenticate': `DPoP error="${error}"`, 'dpop-nonce': NONCE }).end();
				return;
			}
			const hash = createHash('sha256');
			let length = 0;
			req.on('data', (chunk: Buffer) => {
				length += chunk.length;
				hash.update(chunk);
			});
			req.once('end', () => {
				uploads.push({ length, digest: hash.digest('hex'), declared: req.headers['content-length'] });
				res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ length }));
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
	});
	afterAll(async () => {
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
		await rm(dir, { recursive: true, force: true });
	});

	it('is streamed from the file, once for each attempt, never read into memory whole', async () => {
		// a young generation of a fixed size: how many sent chunks wait for a collection is V8's
		// choice otherwise, and grew with Node 24's larger default
		const { stdout } = await run(process.execPath, [
			'--expose-gc',
			'--max-semi-space-size=4',
			CHILD,
			url,
			file,
		]);
		const outcome = JSON.parse(stdout) as { status: number; answer: string; growth: number };
		// the retry after use_dpop_nonce sent the whole file again, under its own length
		expect({ status: outcome.status, answer: outcome.answer }).toEqual({
			status: 200,
			answer: JSON.stringify({ length: SIZE }),
		});
		expect(uploads).toEqual([{ length: SIZE, digest, declared: String(SIZE) }]);
		// read whole, the body alone is SIZE (twice over, with the retry's copy); streamed, a few
		// chunks at a time, and the chunks sent that wait for a collection (some 40 MB here, however
		// large the body; 74 MB once on Node 24 before the young generation was fixed): three
		// quarters of the body is a generous bound, and still one a whole read fails
		expect(outcome.growth).toBeLessThan(SIZE * 0.75);
	}, 30_000);
});

describe('createNodeFetch: a Blob body, streamed, is sent again whole', () => {
	let server: Server;
	let origin: string;
	beforeAll(async () => {
		server = createServer((req, res) => {
			if (req.url === '/moved') {
				res.writeHead(307, { location: '/echo' }).end();
				return;
			}
			const chunks: Buffer[] = [];
			req.on('data', (chunk: Buffer) => chunks.push(chunk));
			req.once('end', () => {
				const body = Buffer.concat(chunks).toString();
				res.end(
					JSON.stringify({ body, length: req.headers['content-length'], type: req.headers['content-type'] }),
				);
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
	});

	it('follows a 307 with it, under its own length and type', async () => {
		const { createNodeFetch } = await import('./create-node-fetch.ts');
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		const blob = new Blob(['a video', ' in two parts'], { type: 'video/mp4' });
		const response = await fetch(`${origin}/moved`, { method: 'POST', body: blob });
		expect(await response.json()).toEqual({ body: 'a video in two parts', length: '20', type: 'video/mp4' });
		// and an empty one is sent as no bytes at all
		const empty = await fetch(`${origin}/echo`, { method: 'POST', body: new Blob([]) });
		expect(await empty.json()).toEqual({ body: '', length: '0' });
	});

	it('refuses a content-length that is not its size, as fetch does', async () => {
		const { createNodeFetch } = await import('./create-node-fetch.ts');
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		const sent = fetch(`${origin}/echo`, {
			method: 'POST',
			headers: { 'content-length': '3' },
			body: new Blob(['four']),
		});
		await expect(sent).rejects.toThrow(TypeError);
	});
});
