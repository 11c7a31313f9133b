/** the runtime this code runs on: `{ name, version }`. */
export const runtimeName = () => {
	if (typeof globalThis.Bun !== 'undefined') return { name: 'bun', version: globalThis.Bun.version };
	if (typeof globalThis.Deno !== 'undefined') return { name: 'deno', version: globalThis.Deno.version.deno };
	if (globalThis.navigator?.userAgent === 'Cloudflare-Workers')
		return { name: 'workerd', version: 'workerd' };
	if (typeof globalThis.process?.versions?.node === 'string') {
		return {
			name: `node${globalThis.process.versions.node.split('.')[0]}`,
			version: globalThis.process.versions.node,
		};
	}
	return { name: 'unknown', version: 'unknown' };
};
