import { OAuthClient as BaseOAuthClient, type OAuthClientOptions } from '@atcute/oauth-client';

import { diagnosticsChannelTracer } from './diagnostics.ts';
import { createNodeSigner } from './node-signer.ts';

/**
 * an atproto OAuth client with Node defaults: DPoP proofs and client assertions are signed
 * through node:crypto (about a third of WebCrypto's cost on Node), and each operation is
 * published on `diagnostics_channel` (see `OAUTH_TRACING_CHANNELS`). see `@atcute/oauth-client`.
 */
export class OAuthClient extends BaseOAuthClient {
	constructor(options: OAuthClientOptions) {
		super({
			...options,
			createSigner: options.createSigner ?? createNodeSigner,
			tracer: options.tracer ?? diagnosticsChannelTracer,
		});
	}
}
