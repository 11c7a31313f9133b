import type { AddressKind } from './internal/classify-address.ts';

export type { AddressKind } from './internal/classify-address.ts';

/**
 * the Node transport refused to connect: the host is, or resolved to, an address outside the
 * public internet (loopback, private, link-local, ...). a hostile handle, DID document or
 * metadata document can point the client at such an address (SSRF); allow it on purpose with
 * `allowPrivateNetwork`.
 */
export class PrivateNetworkError extends Error {
	override name = 'PrivateNetworkError';
	/** stable, for callers that match on codes. */
	readonly code = 'ERR_PRIVATE_NETWORK';
	/** never: the address will be refused again, so a retry cannot help (discovery reports `refused`). */
	readonly transient = false;

	constructor(
		/** the host name (or IP literal) of the refused URL. */
		readonly host: string,
		/** the address it is, or resolved to. */
		readonly address: string,
		/** what kind of address it is: `loopback`, `private`, `link-local`, ... */
		readonly kind: AddressKind,
	) {
		super(
			`refused to connect to ${host}${host === address ? '' : ` (${address})`}: a ${kind} address; set allowPrivateNetwork to reach it on purpose`,
		);
	}
}
