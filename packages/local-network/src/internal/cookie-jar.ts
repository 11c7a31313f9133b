import type { IncomingHttpHeaders } from 'node:http';

/** one site's cookies, like a browser keeps them: set from `Set-Cookie`, sent as `Cookie`. */
export class CookieJar {
	readonly #cookies = new Map<string, string>();

	/** keeps what a response sets, and forgets what it clears. */
	store(headers: IncomingHttpHeaders): void {
		for (const line of headers['set-cookie'] ?? []) {
			const [pair = '', ...attributes] = line.split(';');
			const eq = pair.indexOf('=');
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const cleared =
				value === '' ||
				attributes.some(
					(attribute) =>
						/^\s*max-age\s*=\s*0\s*$/i.test(attribute) ||
						(/^\s*expires\s*=/i.test(attribute) && Date.parse(attribute.split('=')[1]!) < Date.now()),
				);
			if (cleared) this.#cookies.delete(name);
			else this.#cookies.set(name, value);
		}
	}

	get(name: string): string | undefined {
		return this.#cookies.get(name);
	}

	/** the `Cookie` header value. */
	header(): string {
		return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
	}
}
