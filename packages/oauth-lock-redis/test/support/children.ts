import { fileURLToPath } from 'node:url';

import { type AppProcess, startAppProcess as startFixture } from '@atcute-oauth/store-conformance';

const CHILD = fileURLToPath(new URL('../fixtures/oauth-child.mjs', import.meta.url));

export type { AppProcess };

/** starts an app process with `config` (see fixtures/oauth-child.mjs). */
export const startAppProcess = (config: Record<string, unknown>): AppProcess => startFixture(CHILD, config);
