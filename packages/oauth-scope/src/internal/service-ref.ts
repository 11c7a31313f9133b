const DID_PLC_RE = /^did:plc:[a-z2-7]{24}$/;

// a did:web host: letters, digits, `.`, `-`, `_` and percent-escapes with upper-case hex digits
// (the DID syntax); no `:`, since atproto forbids did:web paths
const DID_WEB_RE = /^did:web:(?:[a-zA-Z0-9._-]|%[0-9A-F]{2})+$/;

// a URI fragment: unreserved, sub-delims, `:`, `@`, `/`, `?` and percent-escapes
const FRAGMENT_RE = /^(?:[a-zA-Z0-9._~!$&'()*+,;=:@/?-]|%[0-9a-fA-F]{2})+$/;

/** the longest DID the DID syntax allows. */
const DID_MAX_LENGTH = 2048;

const PORT_SEPARATOR = '%3A';

/** whether `did` is a did:web atproto accepts: a bare host, a port only on localhost. */
const isAtprotoDidWeb = (did: string): boolean => {
	if (did.length > DID_MAX_LENGTH || !DID_WEB_RE.test(did)) {
		return false;
	}
	const host = did.slice('did:web:'.length);
	const localhost = host === 'localhost' || host.startsWith(`localhost${PORT_SEPARATOR}`);
	if (!localhost && host.includes(PORT_SEPARATOR)) {
		return false;
	}
	// the host must parse as a URL host (no forbidden code points); as the reference, an empty
	// label (`a..com`), a trailing dot or a leading hyphen still passes
	return URL.canParse(`https://${host.replaceAll(PORT_SEPARATOR, ':')}`);
};

/**
 * whether `value` names a service in an atproto DID document: a did:plc or did:web (no path, a
 * port only on localhost), `#`, and a non-empty fragment (`did:web:api.bsky.app#bsky_appview`).
 * @see https://atproto.com/specs/permission#rpc
 */
export const isServiceRef = (value: string): boolean => {
	const hash = value.indexOf('#');
	if (hash === -1) {
		return false;
	}
	// FRAGMENT_RE has no `#`, so a second one fails here
	if (!FRAGMENT_RE.test(value.slice(hash + 1))) {
		return false;
	}
	const did = value.slice(0, hash);
	return DID_PLC_RE.test(did) || isAtprotoDidWeb(did);
};
