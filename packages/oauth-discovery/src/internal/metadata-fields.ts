import { DiscoveryError, type DiscoveryErrorCode } from '../discovery-error.ts';
import { displayUrl } from './parse-http-url.ts';

/** which document is being read, for error messages and URL rules. */
export interface DocumentContext {
	/** what the document is, as it starts a message: `authorization server metadata`. */
	readonly name: string;
	/** the document URL. */
	readonly url: string;
	/** whether `http:` URLs are accepted in the document. */
	readonly allowHttp: boolean;
}

/** a short description of a JSON value for a message; strings are shortened, never echoed whole. */
export const describeValue = (value: unknown): string => {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	if (typeof value === 'string') return JSON.stringify(displayUrl(value));
	if (typeof value === 'object') return 'an object';
	return String(value);
};

/** throws the `DiscoveryError` for `path` of the document, e.g. `"issuer" must be …`. */
export const fail = (
	context: DocumentContext,
	path: string,
	problem: string,
	code: DiscoveryErrorCode = 'invalid_metadata',
): never => {
	// the error's url is the document's, whole, for callers to match; its message is shortened
	throw new DiscoveryError(
		code,
		context.url,
		`${context.name} ${JSON.stringify(path)} ${problem} (${displayUrl(context.url)})`,
	);
};

/** the document as an object, or a throw. */
export const asDocument = (context: DocumentContext, value: unknown): Record<string, unknown> => {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new DiscoveryError(
			'invalid_metadata',
			context.url,
			`${context.name} must be a JSON object, got ${describeValue(value)} (${displayUrl(context.url)})`,
		);
	}
	return value as Record<string, unknown>;
};

/** a string field. */
export const requireString = (context: DocumentContext, path: string, value: unknown): string => {
	if (typeof value !== 'string') {
		return fail(
			context,
			path,
			value === undefined ? 'is required' : `must be a string, got ${describeValue(value)}`,
		);
	}
	return value;
};

/**
 * an absolute `https:` URL field (`http:` too with `allowHttp`), without credentials or fragment.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1
 */
export const requireUrl = (context: DocumentContext, path: string, value: unknown): string => {
	const text = requireString(context, path, value);
	const expected = context.allowHttp ? 'an http(s) URL' : 'an https URL';

	let url: URL;
	try {
		url = new URL(text);
	} catch {
		return fail(context, path, `must be ${expected}, got ${describeValue(text)}`);
	}
	const protocolOk = url.protocol === 'https:' || (context.allowHttp && url.protocol === 'http:');
	if (!protocolOk || url.username !== '' || url.password !== '' || url.hash !== '') {
		// the message names the field but never repeats a URL that may carry credentials
		return fail(context, path, `must be ${expected} without credentials or fragment`);
	}
	return text;
};

/**
 * an issuer field: exactly an origin (`https://host[:port]`, no path, query, fragment or
 * trailing slash), so it compares as a string.
 * @see https://atproto.com/specs/oauth#authorization-servers
 */
export const requireOrigin = (context: DocumentContext, path: string, value: unknown): string => {
	const text = requireUrl(context, path, value);
	if (new URL(text).origin !== text) {
		return fail(context, path, `must be an origin such as "https://example.com", got ${describeValue(text)}`);
	}
	return text;
};

/** an array of strings; every element's path is checked. */
export const requireStringArray = (
	context: DocumentContext,
	path: string,
	value: unknown,
): readonly string[] => {
	if (!Array.isArray(value)) {
		return fail(
			context,
			path,
			value === undefined ? 'is required' : `must be an array of strings, got ${describeValue(value)}`,
		);
	}
	for (const [index, item] of value.entries()) {
		requireString(context, `${path}[${index}]`, item);
	}
	return value as readonly string[];
};

/** an array of strings that includes each of `values`. */
export const requireIncludes = (
	context: DocumentContext,
	path: string,
	value: unknown,
	values: readonly string[],
): readonly string[] => {
	const list = requireStringArray(context, path, value);
	for (const wanted of values) {
		if (!list.includes(wanted)) fail(context, path, `must include ${JSON.stringify(wanted)}`);
	}
	return list;
};

/** a field that must be the boolean `true`. */
export const requireTrue = (context: DocumentContext, path: string, value: unknown): true => {
	if (value !== true) {
		return fail(context, path, `must be true, got ${value === undefined ? 'nothing' : describeValue(value)}`);
	}
	return true;
};
