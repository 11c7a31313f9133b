// what buildClientMetadata takes, against what the reference authorization server (Bluesky's
// @atproto/oauth-provider) takes in a confidential client's metadata document: a document the
// builder makes must not fail at the first sign-in, and the builder must not refuse one the
// server takes. the schemas come from @atproto/oauth-types; the few rules the provider adds on top
// (not exported) are written out below
import { generatePrivateKey, Keyset } from '@atcute/oauth-keys';
import {
	buildAtprotoLoopbackClientId,
	isLocalHostname,
	oauthClientIdDiscoverableSchema,
	oauthClientMetadataSchema,
} from '@atproto/oauth-types';
import { beforeAll, describe, expect, it } from 'vitest';

import {
	buildClientMetadata,
	buildLoopbackClientMetadata,
	type ClientMetadataInput,
	type OAuthClientMetadata,
} from './client-metadata.ts';

const HOSTS = [
	'example.com',
	'app.example.com',
	'app.example.com.',
	'xn--bcher-kva.ch',
	'example.com:8443',
	'intranet',
	'intranet.',
	'app.test',
	'app.local',
	'app.localhost',
	'app.invalid',
	'app.example',
	'localhost',
	'127.0.0.1',
	'[::1]',
	'10.0.0.1',
	'[2001:db8::1]',
];
const PREFIXES = ['https://', 'HTTPS://', 'https:', ' https://', 'http://'];

/** the provider's own checks of a discoverable client, beyond the schemas (client-manager.ts). */
const providerTakes = (doc: Record<string, unknown>): boolean => {
	const clientId = new URL(doc.client_id as string);
	if (isLocalHostname(clientId.hostname)) return false;
	for (const uri of doc.redirect_uris as string[]) {
		const url = new URL(uri);
		if (url.protocol === 'https:' && isLocalHostname(url.hostname)) return false;
		if (url.protocol === 'http:' || url.hostname === 'localhost') return false;
	}
	if (typeof doc.client_uri === 'string') {
		const clientUri = new URL(doc.client_uri);
		if (isLocalHostname(clientUri.hostname)) return false;
		if (clientUri.origin !== clientId.origin) return false;
		const folder = clientUri.pathname.endsWith('/') ? clientUri.pathname : `${clientUri.pathname}/`;
		if (clientUri.pathname !== clientId.pathname && !clientId.pathname.startsWith(folder)) return false;
	}
	return true;
};

describe('buildClientMetadata against the reference authorization server', () => {
	let keyset: Keyset;
	beforeAll(async () => {
		keyset = new Keyset([await generatePrivateKey('main')]);
	});

	/** the document as the server would read it, had the builder let it through. */
	const documentOf = (input: ClientMetadataInput): Record<string, unknown> => ({
		...input,
		scope: 'atproto',
		grant_types: ['authorization_code', 'refresh_token'],
		response_types: ['code'],
		application_type: 'web',
		token_endpoint_auth_method: 'private_key_jwt',
		token_endpoint_auth_signing_alg: 'ES256',
		dpop_bound_access_tokens: true,
		...(input.jwks_uri === undefined ? { jwks: keyset.publicJwks } : {}),
	});
	const referenceTakes = (doc: Record<string, unknown>): boolean => {
		try {
			return (
				oauthClientIdDiscoverableSchema.safeParse(doc.client_id).success &&
				oauthClientMetadataSchema.safeParse(doc).success &&
				providerTakes(doc)
			);
		} catch {
			return false;
		}
	};
	const oursTakes = (
		input: ClientMetadataInput,
	): { ok: true; made: boolean } | { ok: false; message: string } => {
		let metadata: OAuthClientMetadata;
		try {
			metadata = buildClientMetadata(input, keyset);
		} catch (err) {
			return { ok: false, message: (err as Error).message };
		}
		// what the builder makes passes too, not only what it was given
		return { ok: true, made: referenceTakes(metadata as unknown as Record<string, unknown>) };
	};

	const inputs = (): [string, ClientMetadataInput][] => {
		const out: [string, ClientMetadataInput][] = [];
		const base = {
			client_id: 'https://example.com/oauth/client-metadata.json',
			redirect_uris: ['https://example.com/oauth/callback'],
			scope: 'atproto',
		};
		for (const host of HOSTS) {
			for (const prefix of PREFIXES) {
				const at = (path: string) => `${prefix}${host}${path}`;
				out.push([`client_id ${at('/c.json')}`, { ...base, client_id: at('/c.json') }]);
				out.push([`client_id ${at('/c/')}`, { ...base, client_id: at('/c/') }]);
				out.push([`redirect ${at('/cb')}`, { ...base, redirect_uris: [at('/cb')] }]);
				out.push([`jwks_uri ${at('/jwks.json')}`, { ...base, jwks_uri: at('/jwks.json') }]);
				for (const field of ['logo_uri', 'tos_uri', 'policy_uri'] as const) {
					out.push([`${field} ${at('/x')}`, { ...base, [field]: at('/x') }]);
				}
				// client_uri on the client_id's own host, at several places
				for (const [clientPath, uriPath] of [
					['/c.json', '/'],
					['/oauth/c.json', '/oauth'],
					['/oauth/c.json', '/oauth/'],
					['/oauth/c.json', '/about'],
					['/oauth/c.json', '/oauth/c.json'],
				]) {
					out.push([
						`client_uri ${at(uriPath!)} for ${at(clientPath!)}`,
						{ ...base, client_id: `https://${host}${clientPath}`, client_uri: at(uriPath!) },
					]);
				}
			}
		}
		return out;
	};

	it('takes exactly the documents the reference takes (but a client_id not in canonical form, or http URLs)', () => {
		const disagreements: string[] = [];
		let taken = 0;
		for (const [what, input] of inputs()) {
			const reference = referenceTakes(documentOf(input));
			const ours = oursTakes(input);
			if (ours.ok) taken++;
			if (ours.ok && !ours.made) {
				disagreements.push(`${what}: ours makes a document the reference refuses`);
				continue;
			}
			if (ours.ok === reference) continue;
			// on purpose: the server compares client ids as text, so the builder asks for the
			// canonical one (a host in lower case, no trailing dot in a path) rather than a second spelling
			if (!ours.ok && /must be in canonical form/.test(ours.message)) continue;
			// on purpose: a published client's keys and pages over https only (the reference lets
			// them be http on a loopback host, which no user's browser or server could reach)
			if (!ours.ok && /must use https/.test(ours.message) && what.includes(' http://')) continue;
			disagreements.push(
				`${what}: ours ${ours.ok ? 'takes' : `refuses (${ours.message})`}, reference ${reference ? 'takes' : 'refuses'}`,
			);
		}
		expect(disagreements).toEqual([]);
		// the inputs reach both answers
		expect(taken).toBeGreaterThan(50);
	});
});

describe('buildLoopbackClientMetadata against the reference', () => {
	it('writes the client id as the reference does, character for character (tokens are bound to it)', () => {
		for (const scope of [
			'atproto',
			'atproto transition:generic',
			'atproto rpc:app.bsky.feed.getFeed?aud=*',
		]) {
			for (const redirect_uris of [
				['http://127.0.0.1:8080/callback'],
				['http://[::1]:3000/cb', 'http://127.0.0.1:3000/cb?x=1'],
			]) {
				expect(
					buildLoopbackClientMetadata({ redirect_uris, scope }).client_id,
					`${scope} ${redirect_uris}`,
				).toBe(
					buildAtprotoLoopbackClientId({ scope: scope as never, redirect_uris: redirect_uris as never }),
				);
			}
		}
	});
});
