import type { Readable } from 'node:stream';

/** calls `onLine` for each complete line of `stream` (utf-8, without the newline). */
export const readLines = (stream: Readable, onLine: (line: string) => void): void => {
	let buffered = '';
	stream.setEncoding('utf8');
	stream.on('data', (chunk: string) => {
		buffered += chunk;
		let newline = buffered.indexOf('\n');
		while (newline !== -1) {
			onLine(buffered.slice(0, newline));
			buffered = buffered.slice(newline + 1);
			newline = buffered.indexOf('\n');
		}
	});
	stream.on('end', () => {
		if (buffered !== '') onLine(buffered);
		buffered = '';
	});
};
