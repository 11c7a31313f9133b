/** the command that installs (or repairs) the runtime, from the repository root. */
export const INSTALL_RUNTIME_COMMAND = 'pnpm --filter @atcute-oauth/local-network install-runtime';

/**
 * the local network's runtime (the reference PDS, Node 22, playwright-core, Chromium) is not installed, or
 * was installed from another lockfile. it lives outside the workspace install on purpose, so the
 * libraries stay light; the message says how to install it.
 */
export class RuntimeNotInstalledError extends Error {
	override name = 'RuntimeNotInstalledError';

	constructor(
		/** `missing`: never installed (or node_modules was removed); `outdated`: the lockfile changed. */
		readonly reason: 'missing' | 'outdated',
		/** the runtime folder. */
		readonly dir: string,
	) {
		super(
			`the local network's runtime is ${reason === 'missing' ? 'not installed' : 'out of date (its lockfile changed)'} in ${dir}. ` +
				`install it with \`${INSTALL_RUNTIME_COMMAND}\` (about 2 minutes the first time; \`pnpm start\` does it too)`,
		);
	}
}
