import type { RewrapOptions } from '../rewrap-options.ts';
import { typeOf } from './type-of.ts';

/**
 * throws a `TypeError` when `rewrap`'s arguments cannot be right, before anything is read or
 * locked: a mistake found at the first entry would only surface as a `RewrapAbortedError`, and
 * one that runs (a string as `keys`, `dryRun: 'false'`) would report a rewrap that did nothing as
 * a success. the messages name the argument and the type received, never a value.
 */
export const checkRewrapArguments = (keys: unknown, options: unknown): void => {
	// a string is iterable (its characters): rewrap('did:plc:…') would visit each one, find no
	// entry and return a report of misses as if it had worked
	if (typeof keys === 'string' || keys instanceof String) {
		throw new TypeError('rewrap(keys) expects an iterable of entry keys, got a string: wrap it in an array');
	}
	if (!isIterable(keys)) {
		throw new TypeError(`rewrap(keys) expects an iterable of entry keys, got ${typeOf(keys)}`);
	}
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(`rewrap(keys, options) expects options to be an object, got ${typeOf(options)}`);
	}
	const { lockName, dryRun } = options as RewrapOptions<string>;
	// a string such as 'false' (from an environment variable) is truthy: it would run a dry run
	if (dryRun !== undefined && typeof dryRun !== 'boolean') {
		throw new TypeError(`dryRun must be a boolean, got ${typeOf(dryRun)}`);
	}
	if (lockName !== undefined && typeof lockName !== 'function') {
		throw new TypeError(`lockName must be a function (key) => string, got ${typeOf(lockName)}`);
	}
};

/** whether `value` has a `for await` can go through: an iterable or an async iterable. */
const isIterable = (value: unknown): boolean => {
	if (value === null || value === undefined) return false;
	const object = value as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
	return typeof object[Symbol.iterator] === 'function' || typeof object[Symbol.asyncIterator] === 'function';
};
