import type { IncomingMessage } from 'node:http';

/**
 * a response's headers as a flat [name, value, ...] list, in the order they came: node:http's
 * `rawHeaders`. an emulated node:http that fills only `headers` (workerd's, under
 * `nodejs_compat`) gets its list made from those, or every response would come back without
 * headers (no content type, no `Location`, no `DPoP-Nonce`).
 */
export const rawHeadersOf = (message: Pick<IncomingMessage, 'rawHeaders' | 'headers'>): readonly string[] => {
	const raw = message.rawHeaders;
	if (raw.length > 0) return raw;
	const list: string[] = [];
	for (const [name, value] of Object.entries(message.headers)) {
		if (value === undefined) continue;
		// `set-cookie` is the one header node:http keeps as a list
		for (const one of Array.isArray(value) ? value : [value]) list.push(name, one);
	}
	return list;
};
