// serves the bundled worker with workerd on a loopback port, at a given compatibility date, and
// runs the suite in it through one request.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { freePort } from './free-port.mjs';

/** the capnp config: the worker, and an outbound network that may reach loopback (the test server). */
const capnpConfig = ({
	port,
	module,
	compatibilityDate,
	compatibilityFlags,
}) => `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
	services = [
		(name = "main", worker = .matrixWorker),
		(name = "loopback", network = (allow = ["public", "private", "local"])),
	],
	sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const matrixWorker :Workerd.Worker = (
	modules = [(name = "worker.mjs", esModule = embed "${module}")],
	compatibilityDate = "${compatibilityDate}",
	compatibilityFlags = [${compatibilityFlags.map((flag) => `"${flag}"`).join(', ')}],
	globalOutbound = "loopback",
);
`;

/**
 * bundles a worker entry and its imports (the built packages) into `outFile`; `node:` modules stay
 * imports, for workerd's nodejs_compat to provide. `onSpawn` is told of the esbuild process.
 */
export const bundleWorker = async ({ esbuild, entry, outFile, onSpawn }) => {
	await new Promise((resolve, reject) => {
		const child = spawn(
			esbuild,
			[
				entry,
				'--bundle',
				'--format=esm',
				'--platform=neutral',
				'--main-fields=module,main',
				'--conditions=workerd,worker,browser',
				'--target=es2022',
				'--external:node:*',
				`--outfile=${outFile}`,
				'--log-level=error',
			],
			{ stdio: ['ignore', 'inherit', 'inherit'] },
		);
		onSpawn?.(child);
		child.once('error', reject);
		child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`esbuild exited with ${code}`))));
	});
};

/**
 * runs the bundled worker `module` (a file in `dir`) under workerd at `compatibilityDate` with
 * `compatibilityFlags`; resolves the suite's results. workerd is stopped by its pid when the
 * request is answered (or fails). `onSpawn` is told of the workerd process.
 */
export const runInWorkerd = async ({
	workerd,
	dir,
	module,
	compatibilityDate,
	compatibilityFlags = [],
	body,
	timeoutMs,
	onSpawn,
}) => {
	const port = await freePort();
	const configPath = join(dir, `config-${port}.capnp`);
	await writeFile(configPath, capnpConfig({ port, module, compatibilityDate, compatibilityFlags }));
	const child = spawn(workerd, ['serve', configPath, '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'] });
	onSpawn?.(child);
	let output = '';
	child.stdout.on('data', (chunk) => {
		output += chunk;
	});
	child.stderr.on('data', (chunk) => {
		output += chunk;
	});
	const exited = new Promise((resolve) => child.once('exit', resolve));
	try {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode}:\n${output}`);
			try {
				const response = await fetch(`http://127.0.0.1:${port}/run`, {
					method: 'POST',
					body: JSON.stringify(body),
					signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
				});
				const text = await response.text();
				if (!response.ok) throw new Error(`worker answered ${response.status}: ${text}\n${output}`);
				return JSON.parse(text).results;
			} catch (err) {
				// refused: workerd is not listening yet
				if (err?.cause?.code !== 'ECONNREFUSED' || Date.now() > deadline) {
					// what workerd said is what explains a dropped connection or a crash
					throw output === '' ? err : new Error(`${err.message}; workerd said:\n${output}`, { cause: err });
				}
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
		}
	} finally {
		if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM');
		await exited;
	}
};
