import { createMemoryLock } from '@atcute/oauth-client';

import { describeLock } from './describe-lock.ts';

// in-process only: there is no second instance to share its locks with
describeLock('createMemoryLock', async () => ({
	lock: createMemoryLock({ timeout: 500 }),
	cleanup: async () => {},
}));
