import { keepUsableFields } from './internal/keep-usable-fields.ts';
import {
	asDocument,
	type DocumentContext,
	describeValue,
	fail,
	requireOrigin,
	requireString,
} from './internal/metadata-fields.ts';

/**
 * protected resource metadata of a PDS, as validated for atproto: the fields we use, in their wire
 * spelling, and up to 64 other fields whose values are JSON scalars or arrays of strings.
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
 */
export interface ProtectedResourceMetadata {
	/** the resource identifier: the PDS origin. */
	readonly resource: string;
	/** the one authorization server (issuer) of the PDS. */
	readonly authorization_servers: readonly [string];
	/**
	 * another field of the document, unchecked: kept when its value is a string, number, boolean,
	 * `null` or an array of strings, for the first 64 such fields; any other is dropped.
	 */
	readonly [field: string]: unknown;
}

/** the fields `ProtectedResourceMetadata` declares: always kept once checked. */
const DECLARED: ReadonlySet<string> = new Set(['resource', 'authorization_servers']);

/** what `validateProtectedResourceMetadata` checks the document against. */
export interface ValidateProtectedResourceMetadataOptions {
	/** the origin of the PDS the document was fetched from; `resource` must equal it. */
	resource: string;
	/** the document URL, for error messages. */
	url: string;
	/**
	 * accept an `http:` issuer; default false.
	 *
	 * > [!WARNING]
	 * > For local development only: see `FetchJsonDocumentOptions.allowHttp`.
	 */
	allowHttp?: boolean | undefined;
}

/**
 * checks protected resource metadata against the atproto profile: `resource` equals the PDS
 * origin it was fetched from (code `mismatch` otherwise), and `authorization_servers` holds
 * exactly one issuer, an https origin. returns a new object: those two fields, and the first 64
 * others whose values are JSON scalars or arrays of strings.
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.3
 * @see https://atproto.com/specs/oauth#authorization-servers
 */
export const validateProtectedResourceMetadata = (
	value: unknown,
	options: ValidateProtectedResourceMetadataOptions,
): ProtectedResourceMetadata => {
	const context: DocumentContext = {
		name: 'protected resource metadata',
		url: options.url,
		allowHttp: options.allowHttp ?? false,
	};
	const document = asDocument(context, value);

	// a document that describes another resource was not published by (or for) this PDS
	const resource = requireString(context, 'resource', document.resource);
	if (resource !== options.resource) {
		fail(
			context,
			'resource',
			`must be ${describeValue(options.resource)}, got ${describeValue(resource)}`,
			'mismatch',
		);
	}

	const servers = document.authorization_servers;
	if (!Array.isArray(servers)) {
		return fail(context, 'authorization_servers', servers === undefined ? 'is required' : 'must be an array');
	}
	// atproto: exactly one, so there is never a choice of issuer to make (or to be tricked into)
	if (servers.length !== 1) {
		return fail(context, 'authorization_servers', `must hold exactly one issuer, got ${servers.length}`);
	}
	requireOrigin(context, 'authorization_servers[0]', servers[0]);

	// a new object, not the parsed document: it is cached and shared, so it holds only what a caller
	// can use, never the thousands of tiny values a hostile PDS can pack into its 8 KiB
	return keepUsableFields(document, DECLARED) as unknown as ProtectedResourceMetadata;
};
