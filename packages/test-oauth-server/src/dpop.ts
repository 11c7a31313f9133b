import type { IncomingMessage } from 'node:http';

import { errors, type JWK, type JWTPayload, jwtVerify } from 'jose';

import { dpopChallenge, HttpError } from './internal/http-error.ts';
import { cachedEmbeddedJwk, cachedThumbprint } from './internal/key-cache.ts';
import { sha256Base64url } from './internal/sha256.ts';

/** a DPoP proof that passed every check. */
export interface VerifiedProof {
	/** the SHA-256 JWK thumbprint of the proof key. */
	jkt: string;
	/** the proof's claims. */
	payload: JWTPayload;
}

/** what `verifyDpopProof` checks against. */
export interface DpopCheck {
	/** `as` answers like an authorization server, `pds` like a resource server. */
	role: 'as' | 'pds';
	/** the request method (`htm`). */
	method: string;
	/** the request URL without query and fragment (`htu`). */
	htu: string;
	/** the access token of the request, for `ath`; undefined when there is none (then `ath` is refused). */
	accessToken: string | undefined;
	/** the nonce the server currently demands. */
	nonce: string;
	/** refuse every nonce (`behaviour.rejectEveryNonce`). */
	rejectEveryNonce: boolean;
	/** the algorithms a proof may use. */
	algorithms: readonly string[];
	/** the server clock, in milliseconds. */
	now: number;
	/** how far `iat` may be from the server clock, in seconds. */
	iatLeeway: number;
	/** the `jti`s already seen by this server; a verified proof's `jti` is added. */
	seenJtis: Set<string>;
}

const invalid = (check: DpopCheck, description: string): HttpError => {
	return new HttpError(401, 'invalid_dpop_proof', description, 'rejection', {
		'www-authenticate': dpopChallenge('invalid_dpop_proof', description, check.algorithms),
	});
};

const useNonce = (check: DpopCheck, description: string | undefined): HttpError => {
	if (check.role === 'as') {
		return new HttpError(
			400,
			'use_dpop_nonce',
			description ?? 'Authorization server requires nonce in DPoP proof',
			'nonce',
		);
	}
	const text = description ?? 'Resource server requires nonce in DPoP proof';
	return new HttpError(401, 'use_dpop_nonce', text, 'nonce', {
		'www-authenticate': dpopChallenge('use_dpop_nonce', text, check.algorithms),
	});
};

/**
 * checks the request's DPoP proof like the reference server (RFC 9449 §4.3), in its order:
 * signature with the embedded public key, `typ`, algorithm, `iat` within the leeway, `jti`,
 * `htm`, `htu`, `nonce`, `ath`, then `jti` replay. throws an `HttpError` to answer with.
 */
export const verifyDpopProof = async (req: IncomingMessage, check: DpopCheck): Promise<VerifiedProof> => {
	const header = req.headers.dpop;
	if (header === undefined) {
		throw invalid(check, 'DPoP proof required');
	}
	if (typeof header !== 'string' || header === '') {
		throw invalid(check, 'DPoP header must contain a single proof');
	}

	let payload: JWTPayload;
	let jwk: JWK;
	try {
		// the embedded key is imported once per DPoP key; every proof's signature is still verified
		const result = await jwtVerify(header, cachedEmbeddedJwk, {
			typ: 'dpop+jwt',
			algorithms: [...check.algorithms],
			currentDate: new Date(check.now),
		});
		payload = result.payload;
		jwk = result.protectedHeader.jwk as JWK;
	} catch (err) {
		const detail = err instanceof errors.JOSEError ? `: ${err.message}` : '';
		throw invalid(check, `Failed to verify DPoP proof${detail}`);
	}

	const { iat, jti, htm, htu, nonce, ath } = payload;
	if (typeof iat !== 'number') {
		throw invalid(check, 'DPoP "iat" missing');
	}
	const skew = iat - Math.floor(check.now / 1000);
	if (Math.abs(skew) > check.iatLeeway) {
		throw invalid(
			check,
			`DPoP "iat" is ${Math.round(Math.abs(skew))} s ${skew > 0 ? 'ahead of' : 'behind'} the server clock (at most ${check.iatLeeway} s allowed)`,
		);
	}
	if (typeof jti !== 'string' || jti === '') {
		throw invalid(check, 'DPoP "jti" missing');
	}
	if (htm !== check.method) {
		throw invalid(check, `DPoP "htm" mismatch: got ${JSON.stringify(htm)}, expected "${check.method}"`);
	}
	if (typeof htu !== 'string') {
		throw invalid(check, 'Invalid DPoP "htu" type');
	}
	if (htu !== check.htu) {
		throw invalid(check, `DPoP "htu" mismatch: got "${htu}", expected "${check.htu}"`);
	}

	if (nonce !== undefined && typeof nonce !== 'string') {
		throw invalid(check, 'Invalid DPoP "nonce" type');
	}
	if (check.rejectEveryNonce) {
		throw useNonce(check, 'DPoP "nonce" mismatch');
	}
	if (!nonce) {
		throw useNonce(check, undefined);
	}
	if (nonce !== check.nonce) {
		throw useNonce(check, 'DPoP "nonce" mismatch');
	}

	if (check.accessToken !== undefined) {
		const expected = sha256Base64url(check.accessToken);
		if (ath !== expected) {
			throw invalid(
				check,
				ath === undefined
					? 'DPoP "ath" missing'
					: `DPoP "ath" mismatch: got "${String(ath)}", expected "${expected}"`,
			);
		}
	} else if (ath !== undefined) {
		throw invalid(check, 'DPoP "ath" claim not allowed');
	}

	if (check.seenJtis.has(jti)) {
		throw invalid(check, `DPoP proof replayed (jti "${jti}")`);
	}
	check.seenJtis.add(jti);

	const jkt = await cachedThumbprint(jwk);
	return { jkt, payload };
};
