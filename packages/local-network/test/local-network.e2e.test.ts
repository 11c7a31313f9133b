import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';

import { describe, expect, it } from 'vitest';

import { findRuntime, startLocalNetwork } from '../src/index.ts';
import { START_TIMEOUT_MS } from './helpers.ts';

/** whether a process with this pid is alive. */
const alive = (pid: number): boolean => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

/** the local addresses a process listens on (from /proc/<pid>/net/tcp, IPv4 and IPv6). */
const listening = (pid: number): string[] => {
	const inode = new Set<string>();
	// the process's own socket inodes, then their rows in the tcp tables
	for (const fd of readdirSync(`/proc/${pid}/fd`)) {
		let target = '';
		try {
			target = readlinkSync(`/proc/${pid}/fd/${fd}`);
		} catch {
			// closed meanwhile
		}
		const match = /^socket:\[(\d+)\]$/.exec(target);
		if (match) inode.add(match[1]!);
	}
	const addresses: string[] = [];
	for (const table of ['tcp', 'tcp6']) {
		for (const row of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
			const cols = row.trim().split(/\s+/);
			// st 0A: LISTEN
			if (cols.length > 9 && cols[3] === '0A' && inode.has(cols[9]!)) addresses.push(`${table}:${cols[1]}`);
		}
	}
	return addresses;
};

describe('startLocalNetwork', () => {
	it('finds its runtime installed (else this fails saying how to install it)', () => {
		// the other end-to-end files fail in their beforeAll with the same message
		expect(findRuntime().nodeVersion).toMatch(/^v\d+\./);
	});

	it(
		'starts the reference PDS and a PLC on 127.0.0.1 with accounts, and stops leaving nothing behind',
		async () => {
			const network = await startLocalNetwork({
				accounts: [{ handle: 'carol.test', password: 'carol-password' }, { handle: 'dan.test' }],
			});
			try {
				expect(network.nodeVersion).toMatch(/^v2[2-9]\.|^v[3-9]\d\./);
				expect(network.pdsUrl).toMatch(/^http:\/\/localhost:\d+$/);
				expect(network.plcUrl).toMatch(/^http:\/\/localhost:\d+$/);
				expect(network.issuer).toBe(network.pdsUrl);
				expect(network.accounts).toEqual([
					{ handle: 'carol.test', did: expect.stringMatching(/^did:plc:/), password: 'carol-password' },
					{ handle: 'dan.test', did: expect.stringMatching(/^did:plc:/), password: expect.any(String) },
				]);
				expect(alive(network.pid)).toBe(true);

				// the handle resolves on the PDS, and the DID document on the PLC names the PDS
				const [carol] = network.accounts;
				const resolved = await fetch(
					`${network.pdsUrl}/xrpc/com.atproto.identity.resolveHandle?handle=${carol!.handle}`,
				).then((r) => r.json());
				expect(resolved).toEqual({ did: carol!.did });
				const doc = await fetch(`${network.plcUrl}/${carol!.did}`).then((r) => r.json());
				expect(doc.alsoKnownAs).toEqual([`at://${carol!.handle}`]);
				expect(doc.service).toContainEqual(
					expect.objectContaining({ id: '#atproto_pds', serviceEndpoint: network.pdsUrl }),
				);

				// its OAuth server is the PDS itself
				const metadata = await fetch(`${network.pdsUrl}/.well-known/oauth-authorization-server`).then((r) =>
					r.json(),
				);
				expect(metadata).toMatchObject({
					issuer: network.issuer,
					require_pushed_authorization_requests: true,
					token_endpoint_auth_methods_supported: expect.arrayContaining(['private_key_jwt', 'none']),
				});

				// its clock is the machine's, and stays so: moving it takes `steppableClock`
				const date = Date.parse((await fetch(`${network.pdsUrl}/xrpc/_health`)).headers.get('date')!);
				expect(Math.abs(date - Date.now())).toBeLessThan(2000);
				await expect(network.advancePdsClock(60_000)).rejects.toThrow(/steppableClock/);

				// loopback only: both ports are bound to 127.0.0.1 (0100007F), nothing to 0.0.0.0 or ::
				const bound = listening(network.pid);
				expect(bound.length).toBeGreaterThanOrEqual(2);
				for (const address of bound) expect(address).toMatch(/^tcp:0100007F:/);
			} finally {
				await network.close();
			}

			expect(alive(network.pid)).toBe(false);
			// the data directory and the TLS files went with it
			expect(dirname(network.tls.caPath).startsWith(tmpdir())).toBe(true);
			expect(existsSync(dirname(dirname(network.tls.caPath)))).toBe(false);
			// closing twice is fine
			await network.close();
		},
		START_TIMEOUT_MS,
	);
});
