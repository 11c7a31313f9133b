#!/usr/bin/env node
// the key tool of @atcute/oauth-store-encrypted:
//   generate-key [--id <id>]   prints a new key as "id:secret", ready for the key ring variable
//   check-env <NAME>           checks the key ring in environment variable NAME without printing it
import { randomBytes } from 'node:crypto';

import { encryptStore, generateStoreKey, parseStoreKeys } from '@atcute/oauth-store-encrypted';

const USAGE = `usage:
  oauth-store-encrypted generate-key [--id <id>]
      prints a new key as "id:secret" (32 random bytes, base64url); put it first in the key ring
      variable, e.g. OAUTH_STORE_KEYS="<new>,<old>". the id defaults to key-<yyyymmdd>-<6 random
      hex digits>; an id given must be 1 to 64 characters of A-Z a-z 0-9 . _ - and not look like a
      secret (hex of 32 bytes or more, base64url of 32 bytes) (--id=<id> works too).
  oauth-store-encrypted check-env <NAME>
      checks that environment variable NAME holds a valid key ring ("id:secret,id:secret");
      prints the key ids, never the secrets.
  oauth-store-encrypted <command> --help
      prints this.`;

const fail = (message, code = 1) => {
	process.stderr.write(`${message}\n`);
	process.exit(code);
};

/** an argument error: the problem on its own line, then the usage; exit code 2. */
const usageError = (command, problem) => fail(`${command}: ${problem}\n\n${USAGE}`, 2);

/** what an environment variable's name may be: a key ring pasted here instead must not be echoed. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** the usual shape of a variable's name (OAUTH_STORE_KEYS): safe to repeat in a message. */
const ENV_NAME_AS_WRITTEN = /^[A-Z_][A-Z0-9_]*$/;
/** a word that is safe to repeat in a message; a secret (43 characters, mixed case) is not one. */
const WORD = /^-{0,2}[a-z][a-z-]{0,30}$/;
/** `arg` quoted when it is a plain word, else a note that does not repeat it. */
const shown = (arg) => (WORD.test(arg) ? JSON.stringify(arg) : '(not repeated here: it could be a secret)');

/**
 * the options and positional arguments of `command`. `flags` lists the options that take a value
 * (`--id <value>` or `--id=<value>`). `--help`/`-h` prints the usage and exits 0. an argument
 * that is not a flag is never repeated in a message: it may be a secret pasted in the wrong place.
 */
const parse = (command, args, flags) => {
	const values = {};
	const positionals = [];
	for (let i = 0; i < args.length; i++) {
		const arg = args[i];
		if (arg === '--help' || arg === '-h') {
			process.stdout.write(`${USAGE}\n`);
			process.exit(0);
		}
		if (!arg.startsWith('-') || arg === '-') {
			positionals.push(arg);
			continue;
		}
		const equals = arg.indexOf('=');
		const flag = equals === -1 ? arg : arg.slice(0, equals);
		// the flag only, never what follows an "=": base64url secrets may start with "-" too
		if (!flags.includes(flag)) usageError(command, `unknown option ${shown(flag)}`);
		if (Object.hasOwn(values, flag)) usageError(command, `${flag} is given twice`);
		let value;
		if (equals !== -1) value = arg.slice(equals + 1);
		else if (i + 1 < args.length && !args[i + 1].startsWith('-')) value = args[++i];
		if (value === undefined || value === '') {
			usageError(
				command,
				`${flag} needs a value: ${flag} <value> (or ${flag}=<value> for one starting with "-")`,
			);
		}
		values[flag] = value;
	}
	return { values, positionals };
};

const [command, ...args] = process.argv.slice(2);

if (command === 'generate-key') {
	const { values, positionals } = parse(command, args, ['--id']);
	if (positionals.length !== 0)
		usageError(command, `takes no arguments besides --id, got ${positionals.length}`);
	// the date tells keys apart by age; the random part tells apart two keys made the same day
	const id =
		values['--id'] ??
		`key-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
	let key;
	try {
		// the key ring's own rule for ids: never print a key the ring would then refuse
		key = generateStoreKey(id);
	} catch (err) {
		// our TypeErrors never repeat the id: one shaped like a secret probably is one
		fail(`generate-key: ${err.message}`);
	}
	process.stdout.write(`${key.id}:${key.secret}\n`);
} else if (command === 'check-env') {
	const { positionals } = parse(command, args, []);
	if (positionals.length !== 1) {
		usageError(command, `expects one environment variable name, got ${positionals.length} arguments`);
	}
	const name = positionals[0];
	if (!ENV_NAME.test(name)) {
		usageError(command, 'NAME must be the name of an environment variable (A-Z a-z 0-9 _), not its value');
	}
	// a secret pasted in place of the name passes ENV_NAME nearly half the time (base64url with no
	// "-", starting with a letter), and names no variable: it is repeated only if it looks like
	// the names people give variables (upper case), which a random 43-character secret never does
	// own variables only: process.env inherits toString, constructor, __proto__… from Object
	const value = Object.hasOwn(process.env, name) ? process.env[name] : undefined;
	if (value === undefined) {
		const named = ENV_NAME_AS_WRITTEN.test(name)
			? name
			: 'that variable (its name is not repeated here: it could be a secret)';
		fail(`check-env: ${named} is not set`);
	}
	try {
		const keys = parseStoreKeys(value, name);
		// building the store validates every key (id, secret, no secret twice) without touching any data
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
} else if (command === undefined) {
	usageError('oauth-store-encrypted', 'no command given');
} else {
	usageError('oauth-store-encrypted', `unknown command ${shown(command)}`);
}
