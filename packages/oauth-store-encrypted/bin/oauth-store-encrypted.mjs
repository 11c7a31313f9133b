#!/usr/bin/env node
// the key tool of @atcute/oauth-store-encrypted:
//   generate-key [--id <id>]   prints a new key as "id:secret", ready for the key ring variable
//   check-env <NAME>           checks the key ring in environment variable NAME without printing it
import { encryptStore, generateStoreKey, parseStoreKeys } from '@atcute/oauth-store-encrypted';

const USAGE = `usage:
  oauth-store-encrypted generate-key [--id <id>]
      prints a new key as "id:secret" (32 random bytes, base64url); put it first in the key ring
      variable, e.g. OAUTH_STORE_KEYS="<new>,<old>". the id defaults to key-<yyyymmdd>.
  oauth-store-encrypted check-env <NAME>
      checks that environment variable NAME holds a valid key ring ("id:secret,id:secret");
      prints the key ids, never the secrets.`;

const fail = (message, code = 1) => {
	process.stderr.write(`${message}\n`);
	process.exit(code);
};

const [command, ...args] = process.argv.slice(2);

if (command === 'generate-key') {
	let id = `key-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
	if (args.length === 2 && args[0] === '--id') id = args[1];
	else if (args.length !== 0) fail(USAGE, 2);
	try {
		const key = generateStoreKey(id);
		process.stdout.write(`${key.id}:${key.secret}\n`);
	} catch (err) {
		fail(`generate-key: ${err.message}`, 2);
	}
} else if (command === 'check-env') {
	if (args.length !== 1) fail(USAGE, 2);
	const name = args[0];
	try {
		const keys = parseStoreKeys(process.env[name], name);
		// building the store validates every secret (length, alphabet) without touching any data
		const store = encryptStore({ get() {}, set() {}, delete() {}, clear() {} }, { keys });
		process.stdout.write(
			`${name}: ${keys.length} key(s) [${keys.map((key) => key.id).join(', ')}]; ${store.primaryKeyId} encrypts\n`,
		);
	} catch (err) {
		// our TypeErrors name positions only, never a secret
		fail(`check-env: ${err.message}`);
	}
} else if (command === '--help' || command === '-h' || command === 'help') {
	process.stdout.write(`${USAGE}\n`);
} else {
	fail(USAGE, 2);
}
