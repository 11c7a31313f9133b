import { afterEach, expect, it, vi } from 'vitest';

import { connectFrom } from './pool-connect.ts';

afterEach(() => {
	vi.restoreAllMocks();
});

// a request waiting in a full pool is watched for the pool's end (pg-pool neither serves nor fails
// it then). during an outage hundreds may wait, those given up on included: one poll for them all,
// not a 100 ms interval each
it('watches the requests queued in one pool with one poll', () => {
	// a full pool whose server is silent, without connectionTimeoutMillis: every request waits
	const pool = {
		totalCount: 10,
		idleCount: 0,
		ending: false,
		options: { max: 10 },
		connect: () => new Promise<never>(() => {}),
	};
	const intervals = vi.spyOn(globalThis, 'setInterval');
	for (let i = 0; i < 500; i++) connectFrom(pool as never).abandon();
	expect(intervals).toHaveBeenCalledTimes(1);
	// the poll ends at the pool's end
	pool.ending = true;
});
