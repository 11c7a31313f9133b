import { describe, expect, it } from 'vitest';

import { formatScopeToken } from './format-scope-token.ts';
import { parseScopeToken } from './parse-scope-token.ts';
import { referenceFields, referenceNormalize } from './test-utils/reference.ts';
import { generateTokens, MALFORMED_TOKENS } from './test-utils/scope-corpus.ts';

const PRINTABLE_ASCII_RE = /^[\x21-\x7e]*$/;

/**
 * the ways we part from @atproto/oauth-scopes on purpose. each is a predicate on one token that
 * must hold exactly where the two disagree.
 */
type Departure =
	/** the reference throws a URIError on a malformed escape in the positional part; we refuse the token */
	| 'reference throws'
	/** the reference takes a blob pattern with non-printable or non-ASCII characters; we do not */
	| 'non-ASCII blob pattern'
	/** the reference takes a `*` in the type part of a blob pattern (`ima*ge/*`); we do not, as the lexicon spec says */
	| 'partial wildcard blob pattern'
	/** the reference keeps `account` actions as a list; we keep the strongest */
	| 'account action list'
	/**
	 * the reference lower-cases blob patterns when it formats them, though it matches the pattern as
	 * written (exactly, as the PDS does); we keep the case, so the token grants the same uploads
	 */
	| 'upper-case blob pattern'
	/** the reference decides between positional and named before it drops repeats, so its output changes when normalized twice */
	| 'repeated blob pattern'
	/** the reference un-escapes `%25` and writes `+` bare in queries; neither reads back */
	| 'escape that does not read back';

const departureOf = (token: string): Departure | undefined => {
	const ours = parseScopeToken(token);
	const theirs = referenceNormalize(token);
	if (!theirs.valid) {
		if (ours !== undefined) {
			return undefined;
		}
		return theirs.threw ? 'reference throws' : undefined;
	}
	if (ours === undefined) {
		const fields = referenceFields(token) as { resource: string; accept?: string[] };
		if (fields.resource !== 'blob') {
			return undefined;
		}
		if (fields.accept!.some((item) => !PRINTABLE_ASCII_RE.test(item))) {
			return 'non-ASCII blob pattern';
		}
		const partial = fields.accept!.some(
			(item) => item !== '*/*' && item.slice(0, item.indexOf('/')).includes('*'),
		);
		return partial ? 'partial wildcard blob pattern' : undefined;
	}
	const canonical = formatScopeToken(ours);
	if (canonical === theirs.canonical) {
		return undefined;
	}
	// from here on the reference reads our canonical token to the same permission
	expect(referenceFields(canonical), token).toEqual(ours);
	if (ours.resource === 'account' && /action=\w+&action=/.test(theirs.canonical)) {
		return 'account action list';
	}
	if (ours.resource === 'blob' && ours.accept.some((item) => item !== item.toLowerCase())) {
		return 'upper-case blob pattern';
	}
	const again = referenceNormalize(theirs.canonical);
	if (again.valid && again.canonical === canonical) {
		return 'repeated blob pattern';
	}
	const unescaped = canonical
		.replaceAll('%25', '%')
		.replace(/%2B/g, (match, offset: number) => (offset > canonical.indexOf('?') ? '+' : match));
	if (unescaped === theirs.canonical && !(again.valid && again.canonical === theirs.canonical)) {
		// the reference's own output reads back as something else, or not at all
		return 'escape that does not read back';
	}
	return undefined;
};

describe('parseScopeToken and formatScopeToken against @atproto/oauth-scopes', () => {
	const generated = generateTokens();
	const corpus = [...new Set([...generated, ...MALFORMED_TOKENS])];

	it('runs over at least 300 generated tokens and 60 hand-written malformed ones', () => {
		expect(generated.length).toBeGreaterThanOrEqual(300);
		expect(MALFORMED_TOKENS.length).toBeGreaterThanOrEqual(60);
		const valid = corpus.filter((token) => referenceNormalize(token).valid);
		// both valid and invalid tokens in numbers
		expect(valid.length).toBeGreaterThanOrEqual(300);
		expect(corpus.length - valid.length).toBeGreaterThanOrEqual(300);
	});

	it('agrees with the reference on validity and canonical form, but for the listed departures', () => {
		const departures = new Map<Departure, string[]>();
		const disagreements: string[] = [];
		for (const token of corpus) {
			const ours = parseScopeToken(token);
			const theirs = referenceNormalize(token);
			const same = theirs.valid
				? ours !== undefined && formatScopeToken(ours) === theirs.canonical
				: ours === undefined && !theirs.threw;
			const departure = departureOf(token);
			if (departure !== undefined) {
				departures.set(departure, [...(departures.get(departure) ?? []), token]);
			} else if (!same) {
				disagreements.push(token);
			}
			// a listed departure is never a token the two agree on
			expect(same && departure !== undefined, token).toBe(false);
		}
		expect(disagreements).toEqual([]);

		// each departure shows up in the corpus, and only these few tokens differ
		expect([...departures.keys()].sort()).toEqual([
			'account action list',
			'escape that does not read back',
			'non-ASCII blob pattern',
			'partial wildcard blob pattern',
			'reference throws',
			'repeated blob pattern',
			'upper-case blob pattern',
		]);
		const total = [...departures.values()].reduce((sum, tokens) => sum + tokens.length, 0);
		expect(total).toBeLessThan(corpus.length / 10);
	});

	it('writes canonical tokens that both implementations read back to the same permission', () => {
		for (const token of corpus) {
			const ours = parseScopeToken(token);
			if (ours === undefined) continue;
			const canonical = formatScopeToken(ours);
			expect(parseScopeToken(canonical), token).toEqual(ours);
			expect(formatScopeToken(parseScopeToken(canonical)!), token).toBe(canonical);
			expect(referenceFields(canonical), token).toEqual(ours);
			expect(referenceNormalize(canonical).valid, token).toBe(true);
		}
	});

	it('departs from the reference in these documented ways', () => {
		const examples: [token: string, ours: string | undefined, theirs: string | 'throws' | undefined][] = [
			['repo:%E0', undefined, 'throws'],
			['repo:app.bsky.feed.post%', undefined, 'throws'],
			['blob:image/pngé', undefined, 'blob:image/png%C3%A9'],
			['blob:image/png%0A', undefined, 'blob:image/png%0A'],
			['blob:**/*', undefined, 'blob:**/*'],
			['blob:ima*ge/*', undefined, 'blob:ima*ge/*'],
			['blob?accept=image/png&accept=a*/*', undefined, 'blob?accept=a*/*&accept=image/png'],
			[
				'account:email?action=read&action=manage',
				'account:email?action=manage',
				'account:email?action=read&action=manage',
			],
			[
				'account:email?action=manage&action=read',
				'account:email?action=manage',
				'account:email?action=manage&action=read',
			],
			['blob?accept=text/html&accept=text/html', 'blob:text/html', 'blob?accept=text/html'],
			['blob?accept=image/png&accept=image/png', 'blob:image/png', 'blob?accept=image/png'],
			['blob:IMAGE/PNG', 'blob:IMAGE/PNG', 'blob:image/png'],
			['blob:Image/*', 'blob:Image/*', 'blob:image/*'],
			[
				'blob?accept=image/png&accept=IMAGE/PNG',
				'blob?accept=IMAGE/PNG&accept=image/png',
				'blob?accept=image/png',
			],
			['blob?accept=IMAGE/PNG&accept=image/*', 'blob?accept=IMAGE/PNG&accept=image/*', 'blob:image/*'],
			[
				'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23svc%2B1',
				'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23svc%2B1',
				'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23svc+1',
			],
			[
				'rpc:app.bsky.feed.getFeed?aud=did:web:localhost%253A2584%23svc',
				'rpc:app.bsky.feed.getFeed?aud=did:web:localhost%253A2584%23svc',
				'rpc:app.bsky.feed.getFeed?aud=did:web:localhost%3A2584%23svc',
			],
			['blob:image/x%25y', 'blob:image/x%25y', 'blob:image/x%y'],
		];
		for (const [token, ours, theirs] of examples) {
			const permission = parseScopeToken(token);
			expect(permission === undefined ? undefined : formatScopeToken(permission), token).toBe(ours);
			const outcome = referenceNormalize(token);
			expect(outcome.valid ? outcome.canonical : outcome.threw ? 'throws' : undefined, token).toBe(theirs);
			expect(departureOf(token), token).toBeDefined();
		}
	});
});
