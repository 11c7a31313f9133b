import { unprintableEscaped } from '@atcute-oauth/internal/unprintable-escaped';

import { tracedText } from './traced-text.ts';

/** how much of a refused input its error quotes: longer than any handle or DID. */
const MAX_QUOTED = 256;

/**
 * a refused input as its error names it: cut, and with control characters escaped (`\u000a`), so
 * an app that logs the error writes one line of bounded length, whatever the visitor typed
 */
export const quoted = (input: string): string =>
	unprintableEscaped(input.length > MAX_QUOTED ? `${tracedText(input, MAX_QUOTED)}…` : input);
