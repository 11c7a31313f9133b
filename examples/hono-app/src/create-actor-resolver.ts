import {
	type ActorResolver,
	CompositeDidDocumentResolver,
	type HandleResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
	WebDidDocumentResolver,
	XrpcHandleResolver,
} from '@atcute/identity-resolver';
import { NodeDnsHandleResolver } from '@atcute/identity-resolver-node';
import {
	createCompositeHandleResolver,
	createNodeFetch,
	createWellKnownHandleResolver,
} from '@atcute/oauth-node-client';

/** options for `createActorResolver`. */
export interface ActorResolverOptions {
	/** the PLC directory to read `did:plc` documents from; default `https://plc.directory`. */
	plcUrl?: string | undefined;
	/**
	 * a service that answers `com.atproto.identity.resolveHandle` (a PDS or an AppView); when set,
	 * handles resolve through it instead of DNS and `/.well-known/atproto-did`. handy for a local
	 * PDS whose handles (`alice.test`) exist nowhere else.
	 */
	handleResolverUrl?: string | undefined;
	/**
	 * the fetch the resolvers use; default `createNodeFetch()`, which refuses private addresses.
	 * give them the OAuth client's transport (`createOAuthClient` does).
	 */
	fetch?: typeof fetch | undefined;
}

/**
 * the documented actor resolver (DNS or well-known handles, PLC and did:web documents), with the
 * PLC directory and the handle resolver replaceable so the same app runs against a local PDS.
 */
export const createActorResolver = (options: ActorResolverOptions = {}): ActorResolver => {
	const { plcUrl, handleResolverUrl } = options;
	// the identifier comes from the visitor: `did:web:10.0.0.5` or a handle whose well-known URL
	// points inside your network would make the server fetch it. never the unguarded global fetch
	const withFetch = { fetch: options.fetch ?? createNodeFetch() };

	const handleResolver: HandleResolver =
		handleResolverUrl === undefined
			? // both methods at once; one that cannot be asked for now is an outage, not an unknown handle
				createCompositeHandleResolver({
					dns: new NodeDnsHandleResolver(),
					// follows the redirects the handle spec allows, each hop guarded
					http: createWellKnownHandleResolver(withFetch),
				})
			: new XrpcHandleResolver({ serviceUrl: handleResolverUrl, ...withFetch });

	return new LocalActorResolver({
		handleResolver,
		didDocumentResolver: new CompositeDidDocumentResolver({
			methods: {
				plc: new PlcDidDocumentResolver({
					...(plcUrl === undefined ? {} : { apiUrl: plcUrl }),
					...withFetch,
				}),
				web: new WebDidDocumentResolver(withFetch),
			},
		}),
	});
};
