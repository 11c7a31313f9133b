import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';

import { PrivateNetworkError } from '../private-network-error.ts';
import { classifyAddress } from './classify-address.ts';
import { nodeBuiltin } from './node-builtin.ts';

/** decides whether a host name may reach non-public addresses. */
export type HostAllowed = (hostname: string) => boolean;

/**
 * a `lookup` for sockets that refuses non-public addresses. it runs at connect time, on the very
 * addresses the socket then connects to, so a name that resolves elsewhere between a check and
 * the connection (DNS rebinding) cannot slip through.
 */
export const createGuardedLookup = (allowed: HostAllowed): LookupFunction => {
	return ((hostname: string, options: LookupOptions, callback: LookupCallback) => {
		nodeBuiltin('node:dns').lookup(hostname, { ...options, all: true }, (error, addresses) => {
			if (error) return callback(error, options.all ? [] : '', 4);
			if (!allowed(hostname)) {
				// every address, not just the first: the socket may try the others (happy eyeballs)
				for (const { address } of addresses) {
					const kind = classifyAddress(address);
					if (kind !== undefined) {
						return callback(new PrivateNetworkError(hostname, address, kind), options.all ? [] : '', 4);
					}
				}
			}
			const first = addresses[0];
			if (first === undefined) {
				// no address and no error (a resolver other than the system's): node's socket would
				// throw, uncaught, destructuring the first of none
				const empty = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
					code: 'ENOTFOUND',
					hostname,
				});
				return callback(empty, options.all ? [] : '', 4);
			}
			if (options.all) return callback(null, addresses);
			callback(null, first.address, first.family);
		});
	}) as LookupFunction;
};

type LookupCallback = (
	error: NodeJS.ErrnoException | null,
	address: string | LookupAddress[],
	family?: number,
) => void;
