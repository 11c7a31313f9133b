import type { AuthorizationServerMetadata } from '@atcute/oauth-discovery';
import { ServerClocks } from '@atcute/oauth-dpop';

/** the endpoints an agent sends to. */
const ENDPOINTS = ['pushed_authorization_request_endpoint', 'token_endpoint', 'revocation_endpoint'] as const;

/**
 * the shared clocks at the issuer's own origin; a clock of the agent's own at any other. metadata
 * may name endpoints anywhere (any https URL passes the atproto profile): a hostile issuer naming
 * an honest server's would otherwise have that server's refusals of its requests (the assertion's
 * audience is not that server) put it back on our clock for 10 minutes, for every session.
 */
class IssuerClocks extends ServerClocks {
	readonly #shared: ServerClocks;
	readonly #issuer: string;

	constructor(shared: ServerClocks, issuer: string, now: () => number) {
		super({ now });
		this.#shared = shared;
		this.#issuer = issuer;
	}

	override now(origin: string): number {
		return origin === this.#issuer ? this.#shared.now(origin) : super.now(origin);
	}

	override offset(origin: string): number | undefined {
		return origin === this.#issuer ? this.#shared.offset(origin) : super.offset(origin);
	}

	override observe(
		origin: string,
		response: { readonly headers: Headers; readonly status: number },
		used: number | undefined,
	): void {
		if (origin === this.#issuer) this.#shared.observe(origin, response, used);
		else super.observe(origin, response, used);
	}

	override adopt(origin: string, headers: Headers, used: number | undefined): boolean {
		return origin === this.#issuer
			? this.#shared.adopt(origin, headers, used)
			: super.adopt(origin, headers, used);
	}
}

/**
 * the clocks an agent of `server` stamps its requests with: `shared` itself when every endpoint is
 * on the issuer's origin (every server met so far), else one that keeps what the other origins
 * teach to the agent (see `IssuerClocks`).
 */
export const issuerClocks = (
	shared: ServerClocks,
	server: AuthorizationServerMetadata,
	now: () => number,
): ServerClocks => {
	const { issuer } = server;
	const elsewhere = ENDPOINTS.some((name) => {
		const url = server[name];
		return url !== undefined && new URL(url).origin !== issuer;
	});
	return elsewhere ? new IssuerClocks(shared, issuer, now) : shared;
};
