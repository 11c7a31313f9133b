import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** a throw-away CA and a server certificate it signed, in a temporary directory. */
export interface TestTls {
	/** the directory holding the files. */
	dir: string;
	/** the CA certificate file: what `NODE_EXTRA_CA_CERTS` names. */
	caPath: string;
	/** the server certificate file and its PEM. */
	certPath: string;
	cert: string;
	/** the server's private key file and its PEM. */
	keyPath: string;
	key: string;
	/** removes the directory. */
	remove(): Promise<void>;
}

// they go into an openssl config line: plain DNS names and IP addresses only
const DNS_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i;

/**
 * makes a throw-away CA (P-256, valid two days) and a server certificate it signed for `hosts`
 * (DNS names or IP addresses; default localhost and 127.0.0.1), with the openssl CLI:
 * node:crypto can read certificates but not issue them. for tests and benches on loopback.
 */
export const createTestTls = async (
	hosts: readonly string[] = ['localhost', '127.0.0.1'],
): Promise<TestTls> => {
	if (hosts.length === 0) throw new TypeError('hosts must name at least one host');
	const names = hosts.map((host) => {
		if (isIP(host) !== 0) return `IP:${host}`;
		if (!DNS_NAME.test(host))
			throw new TypeError(`hosts: not a DNS name or IP address: ${JSON.stringify(host)}`);
		return `DNS:${host}`;
	});
	const dir = await mkdtemp(join(tmpdir(), 'test-tls-'));
	const at = (name: string) => join(dir, name);
	const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
	try {
		await run('openssl', [
			'req',
			'-x509',
			...ec,
			'-keyout',
			at('ca.key'),
			'-out',
			at('ca.pem'),
			'-days',
			'2',
			'-subj',
			'/CN=test CA',
		]);
		await run('openssl', [
			'req',
			...ec,
			'-keyout',
			at('server.key'),
			'-out',
			at('server.csr'),
			'-subj',
			`/CN=${hosts[0]}`,
		]);
		await writeFile(at('ext.cnf'), `subjectAltName=${names.join(',')}\n`);
		await run('openssl', [
			'x509',
			'-req',
			'-in',
			at('server.csr'),
			'-CA',
			at('ca.pem'),
			'-CAkey',
			at('ca.key'),
			'-CAcreateserial',
			'-out',
			at('server.pem'),
			'-days',
			'2',
			'-extfile',
			at('ext.cnf'),
		]);
		return {
			dir,
			caPath: at('ca.pem'),
			certPath: at('server.pem'),
			cert: await readFile(at('server.pem'), 'utf8'),
			keyPath: at('server.key'),
			key: await readFile(at('server.key'), 'utf8'),
			remove: () => rm(dir, { recursive: true, force: true }),
		};
	} catch (error) {
		// nothing left behind when openssl fails
		await rm(dir, { recursive: true, force: true });
		throw error;
	}
};
