import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { run } from './run-node.ts';

// rewrap() calls the app's lock and onProgress. what they leave of its work failing where nobody
// waits for it was an unhandled rejection, which ends a Node process (>= 15): the app runs as a
// process of its own on the built packages, so a crash is its real exit code

const CHILD = fileURLToPath(new URL('./fixtures/rewrap-escapes-child.mjs', import.meta.url));

describe('rewrap() with callbacks whose failure nobody waits for', () => {
	// the lock calls fn() without returning or awaiting its promise: the rewrap fails with a
	// RewrapAbortedError (a TypeError its cause), as documented; the function still runs, and its
	// write, refused since it would be made outside the lock, rejected a promise nobody looked at
	it('a lock that lets go before its function has finished: the later failure does not end the process', {
		timeout: 30_000,
	}, async () => {
		const { code, stdout, stderr } = await run(process.execPath, [CHILD, 'early-release-lock']);
		expect(stderr).toBe('');
		// nothing was written outside the lock: the entry is still under the old key
		expect(JSON.parse(stdout)).toEqual({ outcome: 'RewrapAbortedError', cause: 'TypeError', keyId: 'key-a' });
		expect(code).toBe(0);
	});

	// an exception onProgress throws ends the rewrap (documented); an async onProgress's rejection
	// was dropped on the floor of the event loop, and the rewrap reported success
	it('an async onProgress that rejects ends the rewrap as a throw does, and not the process', {
		timeout: 30_000,
	}, async () => {
		const { code, stdout, stderr } = await run(process.execPath, [CHILD, 'async-progress']);
		expect(stderr).toBe('');
		// the entry was rewritten before the report: it stays so, and running it again carries on
		expect(JSON.parse(stdout)).toEqual({ outcome: 'RewrapAbortedError', cause: 'Error', keyId: 'key-b' });
		expect(code).toBe(0);
	});
});
