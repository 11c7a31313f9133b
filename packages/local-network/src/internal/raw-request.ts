import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/** a response, read whole. */
export interface RawResponse {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: string;
	/** the `Location` header, resolved against the request URL; undefined when absent. */
	location: URL | undefined;
}

/** options for `rawRequest`. */
export interface RawRequestOptions {
	method?: string | undefined;
	headers?: Record<string, string> | undefined;
	body?: string | undefined;
	/** extra CA certificates for https (PEM). */
	ca?: string | undefined;
	/** host names to connect to 127.0.0.1 instead of resolving them. */
	loopbackHosts?: readonly string[] | undefined;
	/** milliseconds; default 15 000. */
	timeout?: number | undefined;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * one HTTP(S) request with node:http, headers sent as given, redirects not followed. the OAuth
 * provider's UI API insists on browser-only headers (`sec-fetch-mode: navigate`) that fetch()
 * (undici) overwrites, so the sign-in helpers cannot use fetch.
 */
export const rawRequest = (url: URL | string, options: RawRequestOptions = {}): Promise<RawResponse> => {
	const target = new URL(url);
	const transport = target.protocol === 'https:' ? https : http;
	const loopback = new Set(options.loopbackHosts ?? []);
	const lookup: LookupFunction | undefined =
		loopback.size === 0
			? undefined
			: (hostname, lookupOptions, callback) => {
					if (!loopback.has(hostname)) {
						dnsLookup(hostname, lookupOptions, callback);
						return;
					}
					if (lookupOptions.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
					else callback(null, '127.0.0.1', 4);
				};

	return new Promise((resolve, reject) => {
		const request = transport.request(
			target,
			{
				method: options.method ?? 'GET',
				headers: options.headers,
				...(options.ca === undefined ? {} : { ca: options.ca }),
				...(lookup === undefined ? {} : { lookup }),
				timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
			},
			(response) => {
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => chunks.push(chunk));
				response.on('error', reject);
				response.on('end', () => {
					const location = response.headers.location;
					resolve({
						status: response.statusCode ?? 0,
						headers: response.headers,
						body: Buffer.concat(chunks).toString('utf8'),
						location: location === undefined ? undefined : new URL(location, target),
					});
				});
			},
		);
		request.on('timeout', () => request.destroy(new Error(`${target.origin}${target.pathname} timed out`)));
		request.on('error', reject);
		request.end(options.body);
	});
};
