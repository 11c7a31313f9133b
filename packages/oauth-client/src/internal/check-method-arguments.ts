import { allowManyAbortListeners } from '@atcute-oauth/internal/allow-many-abort-listeners';
import { kindOf } from '@atcute-oauth/internal/kind-of';
import { checkOptionNames } from '@atcute-oauth/internal/option-names';
import type { AuthorizeOptions, CallbackOptions, RestoreOptions } from '../oauth-client-options.ts';

/** how much of a wrong string argument an error message repeats. */
const MAX_SHOWN = 64;

/**
 * refuses what is not a DID at all (a handle, an `OAuthSession`, `{ did }`, nothing): looked up
 * as it is, it finds no session, and `revoke` of it would resolve as if the user were signed out.
 * a string that starts with `did:` passes whatever its form: it is looked up as before.
 * @throws TypeError naming the method
 */
export const checkDidArgument = (method: 'restore' | 'revoke', did: unknown): void => {
	if (typeof did === 'string' && did.startsWith('did:')) return;
	const got =
		typeof did === 'string'
			? JSON.stringify(did.length > MAX_SHOWN ? `${did.slice(0, MAX_SHOWN)}…` : did)
			: kindOf(did);
	const hint = typeof (did as { did?: unknown } | null)?.did === 'string' ? ' (pass session.did)' : '';
	throw new TypeError(`${method}(did) expects a DID (did:plc:… or did:web:…), got ${got}${hint}`);
};

/** shared with the Node transport's `createNodeFetch`: see there. */
export { checkOptionNames };

/**
 * the names of an options type, each listed once: the record must name every key of `T` and no
 * other, so an option added to the type without its name here is a compile error.
 */
const optionNames = <T>(names: Record<keyof T, true>): readonly string[] => Object.keys(names);

/** the options `restore` knows. */
const RESTORE_OPTIONS = optionNames<RestoreOptions>({ refresh: true });

/** the options `authorize` knows. */
export const AUTHORIZE_OPTIONS: readonly string[] = optionNames<AuthorizeOptions>({
	target: true,
	state: true,
	scope: true,
	redirectUri: true,
	prompt: true,
	signal: true,
});

/**
 * refuses a `refresh` that is none of its three values: a string from the environment ('true')
 * would otherwise mean `'auto'` without a word.
 * @throws TypeError naming the option
 */
export const checkRestoreOptions = (options: RestoreOptions): void => {
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(
			`restore(did, options) expects an object such as { refresh: true }, got ${kindOf(options)}`,
		);
	}
	checkOptionNames('restore(did, options)', options, RESTORE_OPTIONS);
	const refresh: unknown = options.refresh;
	if (refresh !== undefined && refresh !== true && refresh !== false && refresh !== 'auto') {
		const got = typeof refresh === 'string' ? JSON.stringify(refresh.slice(0, MAX_SHOWN)) : kindOf(refresh);
		throw new TypeError(`refresh must be true, false or 'auto', got ${got}`);
	}
};

/**
 * refuses a `signal` that is not an `AbortSignal` before anything listens to it (the controller
 * itself is the usual slip), and lifts Node's listener warning on it: an app-wide signal given to
 * many calls at once holds a listener for each while it runs (see `allowManyAbortListeners`).
 * @throws TypeError naming `signal`
 */
export const checkSignal = (signal: unknown): void => {
	if (signal === undefined) return;
	if (!(signal instanceof AbortSignal)) {
		throw new TypeError(`signal must be an AbortSignal (pass controller.signal), got ${kindOf(signal)}`);
	}
	allowManyAbortListeners(signal);
};

/** the options `callback` knows. */
const CALLBACK_OPTIONS = optionNames<CallbackOptions>({ signal: true });

/**
 * refuses `callback`'s options when they are not an object of known options: a misspelt
 * `signal`, or another method's option (`state`, `redirectUri`), would otherwise be ignored
 * without a word, and the abort it meant never happen. checked before the state is taken.
 * @throws TypeError naming the option
 */
export const checkCallbackOptions = (options: CallbackOptions | undefined): void => {
	if (options === undefined) return;
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(
			`callback(params, options) expects an object such as { signal }, got ${kindOf(options)}`,
		);
	}
	checkOptionNames('callback(params, options)', options, CALLBACK_OPTIONS);
	checkSignal(options.signal);
};

/** what a value that is not JSON data is, for the error that refuses it. */
const describeNonJson = (value: unknown): string | undefined => {
	switch (typeof value) {
		case 'string':
		case 'boolean':
			return undefined;
		case 'number':
			return Number.isFinite(value) ? undefined : `${value} (JSON has no such number)`;
		case 'object': {
			if (value === null || Array.isArray(value)) return undefined;
			const proto = Object.getPrototypeOf(value);
			if (proto === Object.prototype || proto === null) return undefined;
			return `${kindOf(value)}, not a plain object`;
		}
		default:
			return `${typeof value === 'function' ? 'a function' : kindOf(value)}`;
	}
};

/**
 * refuses an app state that is not JSON data, naming where: a store that keeps JSON (Redis,
 * SQLite, PostgreSQL, `encryptStore`) would fail to write it (a bigint, a cycle) once the account
 * was resolved, or hand back something else than was given (a `Date` as a string, a `Map` as `{}`,
 * `NaN` as `null`), where the in-memory store of development hands it back as it is. an
 * `undefined` member is taken, and dropped as JSON drops it.
 * @throws TypeError naming `authorize(options).state` and the path to what is wrong
 */
export const checkAppState = (state: unknown): void => {
	const ancestors = new Set<object>();
	const visit = (value: unknown, path: string, member: boolean): void => {
		if (value === undefined && member) return;
		const problem = value === undefined ? 'undefined' : describeNonJson(value);
		if (problem !== undefined) {
			throw new TypeError(
				`${path} is ${problem}: state must be JSON data (it is kept in the state store and handed back by callback())`,
			);
		}
		if (typeof value !== 'object' || value === null) return;
		if (ancestors.has(value)) {
			throw new TypeError(
				`${path} refers back to an object that contains it: state must be JSON data (it is kept in the state store and handed back by callback())`,
			);
		}
		ancestors.add(value);
		if (Array.isArray(value)) {
			for (const [index, item] of value.entries()) visit(item, `${path}[${index}]`, false);
		} else {
			for (const key of Object.keys(value)) {
				const shown = /^[A-Za-z_$][\w$]*$/.test(key)
					? `.${key}`
					: `[${JSON.stringify(key.slice(0, MAX_SHOWN))}]`;
				visit((value as Record<string, unknown>)[key], `${path}${shown}`, true);
			}
		}
		ancestors.delete(value);
	};
	if (state !== undefined) visit(state, 'authorize(options).state', false);
};
