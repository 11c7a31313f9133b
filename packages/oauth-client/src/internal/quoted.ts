import { tracedText } from './traced-text.ts';

/** how much of a refused input its error quotes: longer than any handle or DID. */
const MAX_QUOTED = 256;

/**
 * C0 and C1 controls, DEL, format characters (bidi overrides such as U+202E, which reorder what a
 * log viewer shows) and the two Unicode line breaks: what must not reach a log line as it is.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * a refused input as its error names it: cut, and with control characters escaped (`\u000a`), so
 * an app that logs the error writes one line of bounded length, whatever the visitor typed
 */
export const quoted = (input: string): string =>
	unprintableEscaped(input.length > MAX_QUOTED ? `${tracedText(input, MAX_QUOTED)}…` : input);

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
