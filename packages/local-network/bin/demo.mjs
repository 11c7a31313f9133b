#!/usr/bin/env node
// the main job: installs the local network's runtime when needed, starts the reference PDS on
// 127.0.0.1 and the example app against it.
//
//   node packages/local-network/bin/demo.mjs              interactive: the app as a loopback client on
//                                                          http://127.0.0.1:3000, for a browser on this machine
//   node packages/local-network/bin/demo.mjs --demo       headless: the app as a confidential client; signs
//                                                          in, sees the protected page, signs out, by itself
//   node packages/local-network/bin/demo.mjs --demo --browser    the same in headless Chromium
//
// runs on the built packages (`pnpm build` first).
import { installRuntime } from '../scripts/install-runtime.mjs';
import { stopOnSignals } from '../scripts/stop-on-signals.mjs';

const USAGE = [
	'usage: demo.mjs [--demo [--browser]]',
	'  (no flag)   start the local PDS and the example app (loopback client) for a browser on this machine',
	'  --demo      run the whole flow headless (confidential client) and print each step with its timing',
	"  --browser   with --demo: drive headless Chromium (the runtime's) instead of plain HTTP",
	'environment: PORT (interactive app port, default 3000)',
].join('\n');
const args = new Set(process.argv.slice(2));
if (args.has('--help') || args.has('-h')) {
	console.log(USAGE);
	process.exit(0);
}
// before anything starts or installs: a mistyped flag must not start the interactive mode
const unknown = [...args].find((arg) => !['--demo', '--browser'].includes(arg));
if (unknown !== undefined) {
	console.error(`unknown argument ${unknown}\n${USAGE}`);
	process.exit(2);
}
if (args.has('--browser') && !args.has('--demo')) {
	console.error(`--browser only works with --demo\n${USAGE}`);
	process.exit(2);
}
const headless = args.has('--demo');
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

// checked before anything starts: a bad PORT found after the PDS is up costs a start and a stop
const portText = process.env.PORT ?? '';
const port = portText === '' ? undefined : Number(portText);
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
	console.error(
		`PORT must be a port number from 0 to 65535 (0: any free one), got ${JSON.stringify(portText)}`,
	);
	process.exit(2);
}

// before the runtime's install (minutes, the first time): unbuilt packages are found at once
let lib;
try {
	lib = await import('../dist/index.mjs');
} catch (error) {
	if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
	console.error('the packages are not built: run `pnpm build` first (from the repository root)');
	process.exit(1);
}

try {
	installRuntime({ log: (line) => console.log(line) });
} catch (error) {
	console.error(`could not install the runtime: ${error instanceof Error ? error.message : error}`);
	process.exit(1);
}

// from here on, a signal stops what was started and deletes its data, whatever phase it arrives in
let playground;
stopOnSignals(
	() => playground,
	(signal) => console.log(`\n${signal}: stopping`),
);

if (headless) {
	const driver = args.has('--browser') ? 'chromium' : 'http';
	console.log(
		`headless demo (${driver === 'chromium' ? 'Chromium' : 'plain HTTP'}): the example app as a confidential client against the local reference PDS`,
	);
	try {
		const result = await lib.runHeadlessDemo({ driver, log: (line) => console.log(line) });
		console.log(
			`demo passed in ${seconds(result.totalMs)}: signed in as @${result.handle} (${result.did}) and out again`,
		);
	} catch (error) {
		console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
		process.exitCode = 1;
	}
} else {
	const started = performance.now();
	try {
		playground = await lib.startPlayground({ port });
	} catch (error) {
		if (error?.code === 'EADDRINUSE') {
			console.error(`port ${port} is taken: stop what listens there, or choose another with PORT=<port>`);
			process.exit(1);
		}
		// one line, as the headless demo says it: the stack trace is no help to someone trying it out
		console.error(`start failed: ${error instanceof Error ? error.message : error}`);
		// the PDS takes these from the shell on purpose; a wrong one is the likeliest cause here
		const pdsSettings = Object.keys(process.env).filter((name) => name.startsWith('PDS_'));
		if (pdsSettings.length > 0) {
			console.error(`(the local PDS was given ${pdsSettings.join(', ')} from your environment)`);
		}
		process.exit(1);
	}
	const { network, account } = playground;
	const servedPort = new URL(playground.url).port;
	console.log(
		[
			'',
			`local atproto network up in ${seconds(performance.now() - started)} (reference PDS on Node ${network.nodeVersion}, pid ${network.pid})`,
			`  PDS and OAuth server  ${network.pdsUrl}`,
			`  PLC directory         ${network.plcUrl}`,
			'',
			`  open                  ${playground.url}${port === undefined && servedPort !== '3000' ? ' (port 3000 is taken)' : ''}`,
			`  handle                ${account.handle}`,
			`  password              ${account.password}`,
			'',
			'the example app runs as a loopback client (development mode: this machine only). Ctrl-C stops everything.',
		].join('\n'),
	);
}
