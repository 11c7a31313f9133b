import { OAuthClient as BaseOAuthClient } from '@atcute/oauth-client';

import { defaultTransport, type OAuthClientOptions } from './default-transport.ts';
import { createNodeSigner } from './node-signer.ts';

/**
 * an atproto OAuth client with Node defaults: DPoP proofs and client assertions are signed
 * through node:crypto (about a third of WebCrypto's cost on Node), and requests go through the
 * Node transport (`createNodeFetch`: cheaper than `fetch`, guarded against SSRF) unless `fetch`
 * is given. see `@atcute/oauth-client`.
 */
export class OAuthClient extends BaseOAuthClient {
	constructor(options: OAuthClientOptions) {
		const { allowPrivateNetwork: _, ...rest } = options;
		super({
			...rest,
			createSigner: options.createSigner ?? createNodeSigner,
			fetch: defaultTransport(options),
		});
	}
}
