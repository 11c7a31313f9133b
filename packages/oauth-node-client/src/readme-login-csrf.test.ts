import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** the text of the section under `heading`, up to the next heading of any level. */
const section = (heading: string): string => {
	const start = readme.indexOf(`\n${heading}\n`);
	if (start === -1) throw new Error(`no section ${heading}`);
	const rest = readme.slice(start + heading.length + 2);
	const end = rest.search(/\n#{1,6} /);
	return end === -1 ? rest : rest.slice(0, end);
};

/** the TypeScript code blocks of `text`. */
const codeBlocks = (text: string): string[] =>
	[...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

describe('the README teaches the callback bound to the browser that started the sign-in (login CSRF)', () => {
	it('keeps the sign-in’s state id in a cookie at /login', () => {
		const login = codeBlocks(section('### Start authorization')).find((code) =>
			code.includes("app.post('/login'"),
		);
		expect(login).toBeDefined();
		expect(login).toMatch(/stateId/);
		expect(login).toMatch(/setCookie\(/);
	});

	it('compares the callback’s state with that cookie before callback() takes it', () => {
		const [callback] = codeBlocks(section('### Handle the callback'));
		expect(callback).toBeDefined();
		const checked = callback!.search(/getCookie\(/);
		const taken = callback!.indexOf('oauth.callback(');
		expect(checked).toBeGreaterThan(-1);
		expect(taken).toBeGreaterThan(checked);
		expect(callback!.slice(checked, taken)).toMatch(/searchParams\.get\('state'\)/);
	});

	it('says why, and that returnTo must stay a path on the site', () => {
		const text = section('### Handle the callback');
		expect(text).toMatch(/login CSRF/);
		expect(text).toMatch(/open redirect/);
	});
});
