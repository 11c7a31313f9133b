// the facade as an app bundles it: esbuild, minified ESM for node, with a metafile so the benches
// can say where the bytes go. shared by startup.bench.mjs and bundle-profile.mjs
import { build } from 'esbuild';

/**
 * bundles `export { <names> } from '<name>'` as resolved from `dir`; `conditions` for package
 * exports, `workingDir` what the metafile's paths are relative to (default the process's cwd).
 */
export const bundleForApp = async ({ name, names, dir, conditions, workingDir }) => {
	const result = await build({
		stdin: { contents: `export { ${names} } from '${name}';`, resolveDir: dir, loader: 'js' },
		bundle: true,
		minify: true,
		format: 'esm',
		platform: 'node',
		write: false,
		metafile: true,
		logLevel: 'silent',
		...(workingDir ? { absWorkingDir: workingDir } : {}),
		...(conditions ? { conditions } : {}),
	});
	return { bytes: result.outputFiles[0].contents, metafile: result.metafile };
};
