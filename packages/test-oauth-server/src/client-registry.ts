import type { JWK } from 'jose';

import {
	type ClientMetadata,
	isLoopbackClientId,
	loopbackClientMetadata,
	type ResolvedClient,
	resolveClientMetadata,
} from './client-metadata.ts';
import { HttpError } from './internal/http-error.ts';

/** how long a `jwks_uri` fetch may take. */
const JWKS_TIMEOUT_MS = 5000;

/**
 * the client metadata documents the server knows: registered ones, and loopback clients derived
 * from their id. documents are checked when used, so a bad document fails the request like on
 * the reference server (`invalid_client_metadata`), not the registration.
 */
export class ClientRegistry {
	readonly #documents = new Map<string, ClientMetadata>();

	/** stores (or replaces) a client's metadata document under its `client_id`. */
	register(metadata: object): void {
		const clientId = (metadata as { client_id?: unknown }).client_id;
		if (typeof clientId !== 'string' || clientId === '') {
			throw new TypeError('client metadata needs a "client_id" string');
		}
		// a copy: later changes to the caller's object are not seen, as with a fetched document
		this.#documents.set(clientId, structuredClone(metadata) as ClientMetadata);
	}

	/** forgets a client's document (its metadata can no longer be fetched). */
	unregister(clientId: string): void {
		this.#documents.delete(clientId);
	}

	/** the checked metadata of a client; throws an `HttpError` to answer with. */
	resolve(clientId: string): ResolvedClient {
		const document = this.#documents.get(clientId);
		if (document !== undefined) {
			return resolveClientMetadata(clientId, document);
		}
		if (isLoopbackClientId(clientId)) {
			return resolveClientMetadata(clientId, loopbackClientMetadata(clientId));
		}
		throw new HttpError(
			400,
			'invalid_client_metadata',
			`Unable to obtain client metadata for "${clientId}": not registered with the test server (call server.registerClient)`,
		);
	}

	/** the public keys of a `private_key_jwt` client: inline, or fetched from `jwks_uri` every time. */
	async keysOf(client: ResolvedClient): Promise<readonly JWK[]> {
		if (client.jwks !== undefined) return client.jwks;
		if (client.jwksUri === undefined) return [];

		let body: unknown;
		try {
			const response = await fetch(client.jwksUri, {
				redirect: 'error',
				signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
			});
			if (response.status !== 200) {
				throw new Error(`status ${response.status}`);
			}
			body = await response.json();
		} catch (err) {
			throw new HttpError(
				400,
				'invalid_client_metadata',
				`Unable to fetch the jwks_uri of "${client.clientId}" (${client.jwksUri}): ${(err as Error).message}`,
			);
		}
		const keys = (body as { keys?: unknown } | null)?.keys;
		if (!Array.isArray(keys)) {
			throw new HttpError(
				400,
				'invalid_client_metadata',
				`the jwks_uri of "${client.clientId}" did not answer a JWKS ({ "keys": [...] })`,
			);
		}
		return keys as JWK[];
	}
}
