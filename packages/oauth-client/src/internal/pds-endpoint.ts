import type { DidDocumentResolver } from '@atcute/identity-resolver';

type DidDocument = Awaited<ReturnType<DidDocumentResolver['resolve']>>;

/**
 * the PDS a DID document names: its `#atproto_pds` service (the id relative, or absolute under the
 * document's own id) of type `AtprotoPersonalDataServer`, whose endpoint is an http(s) origin
 * with nothing before or after it (no credentials, path, query or fragment, not even an empty
 * one). undefined when it names none. written here rather than imported: the package that has it
 * costs about 70 ms to import on Node 20, for these few lines.
 * @see https://atproto.com/specs/did#did-documents
 */
export const pdsEndpointOf = (doc: DidDocument): string | undefined => {
	const services = doc.service;
	if (!Array.isArray(services)) return undefined;
	for (const service of services) {
		const { id, type, serviceEndpoint } = service;
		if (id !== '#atproto_pds' && id !== `${doc.id}#atproto_pds`) continue;
		const types: unknown[] = Array.isArray(type) ? type : [type];
		if (!types.includes('AtprotoPersonalDataServer')) continue;
		if (typeof serviceEndpoint !== 'string' || !isServiceOrigin(serviceEndpoint)) continue;
		return serviceEndpoint;
	}
	return undefined;
};

// an endpoint is an origin (scheme, host, optional port): a path, query or fragment would change
// where requests go, and credentials would be sent to whoever serves the PDS's metadata. compared
// by href, which keeps what the parts lose: an empty `?` or `#`, a user name
const isServiceOrigin = (input: string): boolean => {
	let url: URL;
	try {
		url = new URL(input);
	} catch {
		return false;
	}
	return (url.protocol === 'https:' || url.protocol === 'http:') && url.href === `${url.origin}/`;
};
