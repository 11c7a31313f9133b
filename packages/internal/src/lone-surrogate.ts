// shared by @atcute/oauth-store-postgres and @atcute/oauth-store-redis (each build inlines it):
// both send keys as UTF-8, which has no form for half a surrogate pair.

/**
 * whether `text` holds a UTF-16 surrogate without its pair. UTF-8 encoders put U+FFFD in its
 * place, so every key with one at the same position would name one entry.
 */
export const hasLoneSurrogate = (text: string): boolean => LONE_SURROGATE.test(text);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
