// shared by @atcute/oauth-client (OAuthClient and its methods) and @atcute/oauth-node-client
// (createNodeFetch), each build inlining it: one way to refuse an option a call does not know.

/** how much of a wrong option name an error message repeats. */
const MAX_SHOWN = 64;

/**
 * refuses an option `call` does not know: a misspelt one (`redirectURI`, `allowPrivate`) or
 * another call's would otherwise be ignored without a word, and what it meant never happen. only
 * own enumerable names are read (an options object made from defaults with `Object.create` passes).
 * @throws TypeError naming the option and those `call` takes
 */
export const checkOptionNames = (call: string, options: object, known: readonly string[]): void => {
	for (const name of Object.keys(options)) {
		if (!known.includes(name)) {
			const shown = JSON.stringify(name.length > MAX_SHOWN ? `${name.slice(0, MAX_SHOWN)}…` : name);
			throw new TypeError(`${call} has no option ${shown} (it takes ${known.join(', ')})`);
		}
	}
};
