import { type ChildProcess, execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** a throw-away CA and a server certificate it signed, for some host names. */
export interface TlsMaterial {
	/** the host names the certificate is for. */
	hostnames: readonly string[];
	/** the CA certificate file (what `NODE_EXTRA_CA_CERTS` names). */
	caPath: string;
	/** the CA certificate, PEM. */
	ca: string;
	/** the server certificate, PEM. */
	cert: string;
	/** the server's private key, PEM. */
	key: string;
	/**
	 * the SHA-256 of the server key's SubjectPublicKeyInfo, base64: what Chromium's
	 * `--ignore-certificate-errors-spki-list` takes to trust this one certificate.
	 */
	spkiSha256: string;
}

// two days: enough for any run, and useless long after it
const DAYS = '2';
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** options of `createTlsMaterial`. */
export interface TlsMaterialOptions {
	/**
	 * told of each openssl process as it starts: one who removes `dir` while this runs (a signal)
	 * kills them first, or their files would land in a folder already removed.
	 */
	onSpawn?: (child: ChildProcess) => void;
}

/**
 * makes a throw-away CA and a server certificate for `hostnames` in `dir`, with the openssl CLI
 * (node:crypto can read certificates but not issue them). P-256 keys, valid for two days.
 */
export const createTlsMaterial = async (
	dir: string,
	hostnames: readonly string[],
	options: TlsMaterialOptions = {},
): Promise<TlsMaterial> => {
	if (hostnames.length === 0) throw new TypeError('hostnames must name at least one host');
	for (const name of hostnames) {
		// they go into an openssl config line: only plain DNS names
		if (!HOSTNAME.test(name)) throw new TypeError(`not a DNS host name: ${JSON.stringify(name)}`);
	}
	// synchronous, as the config file below: nothing of ours is left on the thread pool to create
	// the folder again after an exit handler removed it
	mkdirSync(dir, { recursive: true });
	const file = (name: string): string => join(dir, name);
	const openssl = (args: string[]) => {
		const running = run('openssl', args);
		options.onSpawn?.(running.child);
		return running.catch((error: unknown) => {
			// a slim container image may have no openssl binary: say what to install, not ENOENT
			if ((error as { code?: unknown } | null)?.code === 'ENOENT') {
				throw new Error(
					'the local network makes its test certificates with the `openssl` command, which is not installed here: install it (Debian and Ubuntu: `apt-get install openssl`)',
					{ cause: error },
				);
			}
			throw error;
		});
	};
	const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

	await openssl([
		'req',
		'-x509',
		...ec,
		'-keyout',
		file('ca.key'),
		'-out',
		file('ca.pem'),
		'-days',
		DAYS,
		'-subj',
		'/CN=local atproto network test CA',
		'-addext',
		'basicConstraints=critical,CA:TRUE',
		'-addext',
		'keyUsage=critical,keyCertSign,cRLSign',
	]);
	await openssl([
		'req',
		...ec,
		'-keyout',
		file('server.key'),
		'-out',
		file('server.csr'),
		'-subj',
		`/CN=${hostnames[0]}`,
	]);
	writeFileSync(
		file('server.ext'),
		[
			'basicConstraints=CA:FALSE',
			'keyUsage=digitalSignature',
			'extendedKeyUsage=serverAuth',
			`subjectAltName=${hostnames.map((name) => `DNS:${name}`).join(',')}`,
		].join('\n'),
	);
	await openssl([
		'x509',
		'-req',
		'-in',
		file('server.csr'),
		'-CA',
		file('ca.pem'),
		'-CAkey',
		file('ca.key'),
		'-CAcreateserial',
		'-out',
		file('server.pem'),
		'-days',
		DAYS,
		'-extfile',
		file('server.ext'),
	]);

	const [ca, cert, key] = await Promise.all(
		['ca.pem', 'server.pem', 'server.key'].map((name) => readFile(file(name), 'utf8')),
	);
	const spki = new X509Certificate(cert!).publicKey.export({ type: 'spki', format: 'der' });
	return {
		hostnames: [...hostnames],
		caPath: file('ca.pem'),
		ca: ca!,
		cert: cert!,
		key: key!,
		spkiSha256: createHash('sha256').update(spki).digest('base64'),
	};
};
