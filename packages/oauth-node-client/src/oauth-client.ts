import { OAuthClient as BaseOAuthClient } from '@atcute/oauth-client';

import { defaultTransport, type OAuthClientOptions } from './default-transport.ts';
import { diagnosticsChannelTracer } from './diagnostics.ts';
import { createNodeSigner } from './node-signer.ts';

/**
 * an atproto OAuth client with Node defaults: DPoP proofs and client assertions are signed
 * through node:crypto (about a third of WebCrypto's cost on Node), requests go through the Node
 * transport (`createNodeFetch`: cheaper than `fetch`, guarded against SSRF) unless `fetch` is
 * given, and each operation is published on `diagnostics_channel` (see `OAUTH_TRACING_CHANNELS`).
 * see `@atcute/oauth-client`.
 */
export class OAuthClient extends BaseOAuthClient {
	constructor(options: OAuthClientOptions) {
		const { allowPrivateNetwork: _, ...rest } = options;
		super({
			...rest,
			createSigner: options.createSigner ?? createNodeSigner,
			fetch: defaultTransport(options),
			tracer: options.tracer ?? diagnosticsChannelTracer,
		});
	}
}
