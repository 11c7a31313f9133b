import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { escapeHtml, FULL_BLUESKY_SCOPE, loadEnvFiles, readServerConfig } from '../src/index.ts';

describe('readServerConfig', () => {
	it('treats empty variables as unset, like the committed .env', () => {
		expect(readServerConfig({ PRIVATE_KEY_JWK: '', PUBLIC_URL: '', PORT: '', COOKIE_SECRET: '' })).toEqual({
			publicUrl: undefined,
			privateKeyJwk: undefined,
			port: undefined,
			hostname: undefined,
			cookieSecret: undefined,
			plcUrl: undefined,
			handleResolverUrl: undefined,
			allowHttp: false,
			scope: undefined,
		});
	});

	it('reads every variable', () => {
		expect(
			readServerConfig({
				PUBLIC_URL: 'https://app.example.com',
				PRIVATE_KEY_JWK: '{"kty":"EC"}',
				PORT: '8080',
				HOST: '0.0.0.0',
				COOKIE_SECRET: 's'.repeat(32),
				PLC_URL: 'http://127.0.0.1:2582',
				HANDLE_RESOLVER_URL: 'http://127.0.0.1:2583',
				ALLOW_HTTP: 'true',
				OAUTH_SCOPE: 'full',
			}),
		).toEqual({
			publicUrl: 'https://app.example.com',
			privateKeyJwk: '{"kty":"EC"}',
			port: 8080,
			hostname: '0.0.0.0',
			cookieSecret: 's'.repeat(32),
			plcUrl: 'http://127.0.0.1:2582',
			handleResolverUrl: 'http://127.0.0.1:2583',
			allowHttp: true,
			scope: FULL_BLUESKY_SCOPE,
		});
		expect(readServerConfig({ OAUTH_SCOPE: 'atproto transition:email' }).scope).toBe(
			'atproto transition:email',
		);
		expect(readServerConfig({ OAUTH_SCOPE: 'generic' }).scope).toBeUndefined();
	});

	it('names a malformed variable', () => {
		expect(() => readServerConfig({ PORT: 'eighty' })).toThrow(/PORT/);
		expect(() => readServerConfig({ PORT: '70000' })).toThrow(/PORT/);
		expect(() => readServerConfig({ ALLOW_HTTP: 'maybe' })).toThrow(/ALLOW_HTTP/);
	});

	it('takes PLC_URL and HANDLE_RESOLVER_URL as http(s) URLs only', () => {
		for (const name of ['PLC_URL', 'HANDLE_RESOLVER_URL']) {
			expect(() => readServerConfig({ [name]: 'plc.directory' })).toThrow(
				new RegExp(`^${name} is not a URL: "plc.directory"$`),
			);
			expect(() => readServerConfig({ [name]: 'ftp://plc.example' })).toThrow(
				new RegExp(`^${name} must be an http:// or https:// URL, got ftp://…$`),
			);
		}
		expect(readServerConfig({ PLC_URL: 'https://plc.directory' }).plcUrl).toBe('https://plc.directory');
	});

	it('takes DATABASE_URL as a postgres URL only, and never repeats it', () => {
		expect(readServerConfig({ DATABASE_URL: 'postgres://u:pw@db:5432/app' }).databaseUrl).toBe(
			'postgres://u:pw@db:5432/app',
		);
		expect(readServerConfig({ DATABASE_URL: 'postgresql://u:pw@db/app' }).databaseUrl).toBe(
			'postgresql://u:pw@db/app',
		);
		// a value missing its scheme parses with the user name as one: nothing of it is repeated
		for (const bad of ['mysql://admin:hunter2@db/app', 'admin:hunter2@db/app', 'hunter2 admin']) {
			let thrown: unknown;
			try {
				readServerConfig({ DATABASE_URL: bad });
			} catch (error) {
				thrown = error;
			}
			expect(thrown).toBeInstanceOf(TypeError);
			expect((thrown as Error).message).toMatch(
				/^DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/,
			);
			expect((thrown as Error).message).not.toMatch(/hunter2|admin|mysql/);
		}
	});
});

describe('loadEnvFiles', () => {
	const names = ['HONO_APP_TEST_KEY', 'HONO_APP_TEST_PORT', 'HONO_APP_TEST_REAL'];
	let dir: string | undefined;

	afterEach(async () => {
		for (const name of names) delete process.env[name];
		if (dir !== undefined) await rm(dir, { recursive: true, force: true });
	});

	it('reads .env.local over .env, and never over the real environment', async () => {
		dir = await mkdtemp(join(tmpdir(), 'hono-app-env-'));
		await writeFile(
			join(dir, '.env'),
			'HONO_APP_TEST_KEY=\nHONO_APP_TEST_PORT=3000\nHONO_APP_TEST_REAL=file\n',
		);
		await writeFile(join(dir, '.env.local'), `HONO_APP_TEST_KEY='{"kty":"EC","x":"a#b"}'\n`);
		process.env.HONO_APP_TEST_REAL = 'real';

		expect(loadEnvFiles(dir)).toEqual([join(dir, '.env.local'), join(dir, '.env')]);
		// the quotes the setup script writes are stripped, and a # inside them is kept
		expect(process.env.HONO_APP_TEST_KEY).toBe('{"kty":"EC","x":"a#b"}');
		expect(process.env.HONO_APP_TEST_PORT).toBe('3000');
		expect(process.env.HONO_APP_TEST_REAL).toBe('real');
	});

	it('reads nothing from a directory without env files', async () => {
		dir = await mkdtemp(join(tmpdir(), 'hono-app-env-'));
		expect(loadEnvFiles(dir)).toEqual([]);
	});
});

describe('escapeHtml', () => {
	it('escapes the five characters that matter in content and quoted attributes', () => {
		expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
			'&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
		);
	});
});
