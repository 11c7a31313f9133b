import dns, { type LookupAddress, type LookupOptions } from 'node:dns';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { createGuardedLookup } from './guarded-lookup.ts';

type Answer = { error: NodeJS.ErrnoException | null; addresses: LookupAddress[] };

/** the system resolver answering `answer` for every name, as a resolver of another kind may. */
const answering = (answer: Answer) =>
	vi.spyOn(dns, 'lookup').mockImplementation(((
		_hostname: string,
		_options: unknown,
		callback: (...args: unknown[]) => void,
	) => {
		queueMicrotask(() => callback(answer.error, answer.addresses));
	}) as never);

/** what the guarded lookup calls back with, for `hostname` and `options`. */
const lookUp = (hostname: string, options: LookupOptions) =>
	new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family: unknown }>((resolve) => {
		const lookup = createGuardedLookup(() => false);
		lookup(hostname, options, (error, address, family) => resolve({ error, address, family }));
	});

describe('createGuardedLookup', () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it.each([
		['one address', { all: false }, ''],
		['all addresses', { all: true }, []],
	])('fails a name that resolved to no address with ENOTFOUND naming it (%s)', async (_, options, none) => {
		answering({ error: null, addresses: [] });
		const { error, address } = await lookUp('empty.example', options);
		// node's socket would destructure the first of none, and throw where nobody catches it
		expect(error).toMatchObject({ code: 'ENOTFOUND', hostname: 'empty.example' });
		expect(address).toEqual(none);
	});

	it('hands on the addresses of a public name, and refuses a private one naming it', async () => {
		answering({ error: null, addresses: [{ address: '93.184.215.14', family: 4 }] });
		expect(await lookUp('public.example', { all: true })).toMatchObject({
			error: null,
			address: [{ address: '93.184.215.14', family: 4 }],
		});
		expect(await lookUp('public.example', {})).toMatchObject({
			error: null,
			address: '93.184.215.14',
			family: 4,
		});
		vi.restoreAllMocks();
		answering({ error: null, addresses: [{ address: '10.0.0.5', family: 4 }] });
		const { error } = await lookUp('internal.example', { all: true });
		expect(error).toMatchObject({
			name: 'PrivateNetworkError',
			host: 'internal.example',
			address: '10.0.0.5',
		});
	});

	it.each([
		['one address', { all: false }],
		['all addresses', { all: true }],
	])('refuses a name any of whose addresses is private, not only the first (%s)', async (_, options) => {
		// the socket may try every address it is given (happy eyeballs), not just the first
		answering({
			error: null,
			addresses: [
				{ address: '93.184.215.14', family: 4 },
				{ address: '127.0.0.1', family: 4 },
			],
		});
		const { error } = await lookUp('rebind.example', options);
		expect(error).toMatchObject({
			name: 'PrivateNetworkError',
			host: 'rebind.example',
			address: '127.0.0.1',
		});
	});
});
