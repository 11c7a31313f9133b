#!/usr/bin/env node
// starts the local atproto network alone (reference PDS + in-memory PLC on 127.0.0.1) and prints
// its URLs and accounts; Ctrl-C stops it and deletes its data.
//
//   node packages/local-network/bin/local-network.mjs [--account handle[:password]]... [--json]
//
// runs on the built package (`pnpm build` first) and needs the runtime
// (`pnpm --filter @atcute-oauth/local-network install-runtime`).
import { stopOnSignals } from '../scripts/stop-on-signals.mjs';

const USAGE = 'usage: local-network.mjs [--account handle[:password]]... [--json]';
const argv = process.argv.slice(2);
const accounts = [];
let json = false;
for (let i = 0; i < argv.length; i++) {
	if (argv[i] === '--help' || argv[i] === '-h') {
		console.log(USAGE);
		process.exit(0);
	}
	if (argv[i] === '--json') json = true;
	else if (argv[i] === '--account' && argv[i + 1] === undefined) {
		console.error(`--account needs a value: --account handle[:password]\n${USAGE}`);
		process.exit(2);
	} else if (argv[i] === '--account') {
		// the password is everything after the first colon: it may hold colons itself
		const spec = argv[++i];
		const colon = spec.indexOf(':');
		accounts.push(
			colon === -1 ? { handle: spec } : { handle: spec.slice(0, colon), password: spec.slice(colon + 1) },
		);
	} else {
		console.error(`unknown argument ${argv[i]}\n${USAGE}`);
		process.exit(2);
	}
}

let lib;
try {
	lib = await import('../dist/index.mjs');
} catch (error) {
	if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
	console.error('the package is not built: run `pnpm build` first (from the repository root)');
	process.exit(1);
}

// a signal in any phase stops what was started and deletes its data
let network;
stopOnSignals(() => network);

try {
	network = await lib.startLocalNetwork(accounts.length > 0 ? { accounts } : {});
	const { pdsUrl, plcUrl, issuer, pid, nodeVersion, startupMs } = network;
	if (json) {
		console.log(
			JSON.stringify({ pdsUrl, plcUrl, issuer, pid, nodeVersion, startupMs, accounts: network.accounts }),
		);
	} else {
		console.log(
			`local atproto network up in ${(startupMs / 1000).toFixed(2)} s (Node ${nodeVersion}, pid ${pid})`,
		);
		console.log(`  PDS and OAuth server  ${pdsUrl}`);
		console.log(`  PLC directory         ${plcUrl}`);
		for (const account of network.accounts) {
			console.log(`  account               ${account.handle}  password ${account.password}  ${account.did}`);
		}
		console.log('Ctrl-C stops it.');
	}
} catch (error) {
	console.error(error instanceof Error ? error.message : error);
	process.exitCode = 1;
}
