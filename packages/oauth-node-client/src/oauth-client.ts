import { OAuthClient as BaseOAuthClient } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';

import { defaultTransport, type OAuthClientOptions } from './default-transport.ts';
import { diagnosticsChannelTracer } from './diagnostics.ts';
import { nodeSha256 } from './internal/node-sha256.ts';
import { warnDefaultLockScope } from './internal/warn-default-lock.ts';
import { createNodeSigner } from './node-signer.ts';

/**
 * an atproto OAuth client with Node defaults: DPoP proofs and client assertions are signed
 * through node:crypto (about a third of WebCrypto's cost on Node) and PKCE challenges and `ath`
 * claims hashed there (a fifteenth), requests go through the Node transport (`createNodeFetch`:
 * cheaper than `fetch`, guarded against SSRF) unless `fetch` is given, and each operation is
 * published on `diagnostics_channel` (see `OAUTH_TRACING_CHANNELS`). see `@atcute/oauth-client`.
 */
export class OAuthClient extends BaseOAuthClient {
	/** @param options `@atcute/oauth-client`'s options plus `allowPrivateNetwork` (`OAuthClientOptions`) */
	constructor(options: OAuthClientOptions) {
		if (typeof options !== 'object' || options === null) {
			throw new TypeError(
				`OAuthClient options must be an object, got ${options === null ? 'null' : typeof options}`,
			);
		}
		const { allowPrivateNetwork: _, ...rest } = options;
		super({
			...rest,
			createSigner: options.createSigner ?? createNodeSigner,
			sha256: options.sha256 ?? nodeSha256,
			fetch: defaultTransport(options),
			tracer: options.tracer ?? diagnosticsChannelTracer,
		});
		// the default lock is this thread's: say so where the app's copies may share one store (a
		// MemoryStore's sessions are this thread's too, so its lock covers all who can refresh them)
		if (options.requestLock === undefined && !(options.stores?.sessions instanceof MemoryStore)) {
			warnDefaultLockScope();
		}
	}
}
