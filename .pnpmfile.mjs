// node's own headers ship with this node install (/usr/include/node on Debian's nodejs). pnpm 12
// does not forward `nodedir` from ~/.npmrc to build scripts, so node-gyp (better-sqlite3's
// fallback when its prebuilt binary cannot be downloaded) would fetch headers from the internet
// and fail offline. point it at the local headers instead.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const prefix = dirname(dirname(process.execPath));

export const hooks = {
	updateConfig(config) {
		// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by pnpm, not by a turbo task
		if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node.h'))) {
			config.extraEnv = { ...config.extraEnv, npm_config_nodedir: prefix };
		}
		return config;
	},
};
