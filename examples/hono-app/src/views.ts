import { html, type SafeHtml, trusted } from './html.ts';

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1f; }
h1 { font-size: 1.5rem; }
form { display: flex; gap: .5rem; margin: 1rem 0; }
input[type=text] { flex: 1; padding: .4rem .6rem; font: inherit; }
button, .button { padding: .4rem .9rem; font: inherit; cursor: pointer; }
code { background: #f1f1f4; padding: 0 .25rem; border-radius: 3px; word-break: break-all; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; }
.error { border-left: 4px solid #c62828; padding-left: 1rem; }
`;

/** the page frame. */
export const layout = (title: string, body: SafeHtml): string => {
	return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${trusted(STYLE)}</style>
</head>
<body>
${body}
</body>
</html>
`.toString();
};

/** the home page: a sign-in form, or who is signed in. */
export const homePage = (options: { did?: string | undefined }): string => {
	if (options.did !== undefined) {
		return layout(
			'atproto OAuth example',
			html`<h1>atproto OAuth example</h1>
<p>signed in as <code>${options.did}</code>.</p>
<p><a href="/protected">see your account</a></p>
<form method="post" action="/logout"><button type="submit">sign out</button></form>`,
		);
	}
	return layout(
		'atproto OAuth example',
		html`<h1>atproto OAuth example</h1>
<p>sign in with your atproto account (Bluesky or any other PDS).</p>
<form method="post" action="/login">
<input type="text" name="handle" placeholder="alice.bsky.social" aria-label="handle" autocomplete="username" required>
<button type="submit">sign in</button>
</form>`,
	);
};

/** the signed-in page: what the PDS says about the account. */
export const protectedPage = (account: {
	handle: string;
	did: string;
	pds: string;
	scope: string;
}): string => {
	return layout(
		`@${account.handle}`,
		html`<h1>hello, @${account.handle}</h1>
<p>this came from your PDS just now, with a DPoP-bound access token:</p>
<dl>
<dt>handle</dt><dd><code>${account.handle}</code></dd>
<dt>DID</dt><dd><code>${account.did}</code></dd>
<dt>PDS</dt><dd><code>${account.pds}</code></dd>
<dt>scope</dt><dd><code>${account.scope}</code></dd>
</dl>
<form method="post" action="/logout"><button type="submit">sign out</button></form>
<p><a href="/">home</a></p>`,
	);
};

/** a friendly error page: what went wrong, the error code when there is one, and a way back. */
export const errorPage = (options: { title: string; message: string; code?: string | undefined }): string => {
	return layout(
		options.title,
		html`<h1>${options.title}</h1>
<div class="error">
<p>${options.message}</p>
${options.code === undefined ? '' : html`<p>error code: <code>${options.code}</code></p>`}
</div>
<p><a href="/">back to the start</a></p>`,
	);
};
