import type { FetchFunction } from '@atcute/oauth-dpop';

import type { ConnectVia } from './node-transport.ts';
import { type NodeTransportOptions, transportSettings } from './transport-settings.ts';

/**
 * `createNodeTransport`, whose code is loaded at the first request rather than with the package:
 * it is over half of this package's (44 of 76 kB of dist, about 3 ms of CPU to import on Node 20),
 * which an app importing the facade paid before it made a request, or when it never makes one
 * through it (its own `fetch`). the options are read and checked now, as `createNodeTransport`
 * does, so a wrong one still throws here.
 */
export const lazyNodeTransport = (options: NodeTransportOptions, connectVia?: ConnectVia): FetchFunction => {
	const settings = transportSettings(options);
	let transport: FetchFunction | undefined;
	let loading: Promise<FetchFunction> | undefined;
	const load = (): Promise<FetchFunction> => {
		loading ??= import('./node-transport.ts').then(
			({ transportWith }) => {
				transport = transportWith(settings, connectVia);
				return transport;
			},
			(err: unknown) => {
				// forgotten, so the next request tries again
				loading = undefined;
				throw err;
			},
		);
		return loading;
	};
	// once loaded, a request goes straight to the transport, without a turn of waiting
	return (input, init) =>
		transport !== undefined ? transport(input, init) : load().then((loaded) => loaded(input, init));
};
