/** a `Content-Encoding` coding the transport decodes: the ones fetch decodes. */
export type ContentCoding = 'gzip' | 'x-gzip' | 'deflate' | 'br';

const DECODABLE: ReadonlySet<string> = new Set<ContentCoding>(['gzip', 'x-gzip', 'deflate', 'br']);

/** whether `coding` (trimmed, lower-cased) is one the transport decodes. */
export const isContentCoding = (coding: string): coding is ContentCoding => DECODABLE.has(coding);
