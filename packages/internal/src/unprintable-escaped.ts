// shared by @atcute/oauth-client and @atcute/oauth-node-client (each build inlines it): text from
// the network or a visitor that reaches an error message is escaped the same way everywhere.

/**
 * C0 and C1 controls, DEL, format characters (bidi overrides such as U+202E, which reorder what a
 * log viewer shows) and the two Unicode line breaks: what must not reach a log line as it is.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * `text` with what must not reach a log line escaped (`\u202e`), nothing cut: for text already
 * bounded, such as a JSON string literal (JSON.stringify escapes C0 controls, not bidi overrides
 * nor U+2028)
 */
export const unprintableEscaped = (text: string): string =>
	text.replace(UNPRINTABLE, (c) => {
		const code = c.codePointAt(0)!;
		return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
	});
