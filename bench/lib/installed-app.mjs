// an app that installs a workspace package as users do: the package and the workspace packages it
// depends on are packed as they would be published (`pnpm pack`: publishConfig applied, `files`
// only, `workspace:` ranges replaced) and installed with `npm install` into a temporary directory,
// which gives the flat node_modules of a registry install (real folders, no symlinks), unlike the
// workspace's pnpm symlinks. every workspace package comes from its tarball (overrides pin them,
// so nothing of ours is fetched; a registry dependency would come from npm's cache when it has
// it), and peer dependencies are left out (`--legacy-peer-deps`): the built code does not import
// them at start-up.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '../../packages');

/** name → { dir, manifest } of every workspace package. */
const workspacePackages = () => {
	const byName = new Map();
	for (const entry of readdirSync(packagesDir, { withFileTypes: true })) {
		if (!entry.isDirectory()) continue;
		const dir = join(packagesDir, entry.name);
		try {
			const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
			byName.set(manifest.name, { dir, manifest });
		} catch {}
	}
	return byName;
};

/** `name` and the workspace packages it needs at run time (dependencies and peers), transitively. */
const runtimeClosure = (name, byName) => {
	const seen = new Set();
	const visit = (current) => {
		if (seen.has(current)) return;
		seen.add(current);
		const { manifest } = byName.get(current);
		for (const deps of [manifest.dependencies, manifest.peerDependencies]) {
			for (const [dep, range] of Object.entries(deps ?? {})) {
				if (range.startsWith('workspace:') && byName.has(dep)) visit(dep);
			}
		}
	};
	visit(name);
	return [...seen];
};

/**
 * installs the built package `name` (and its workspace dependencies) into a fresh temporary app;
 * returns its directory (import `name` from there) and `remove()`. needs `pnpm build` first.
 */
export const installApp = (name) => {
	const byName = workspacePackages();
	if (!byName.has(name)) throw new TypeError(`${name} is not a workspace package`);
	const dir = mkdtempSync(join(tmpdir(), 'atcute-installed-'));
	const remove = () => rmSync(dir, { recursive: true, force: true });
	try {
		const tarballs = {};
		for (const pkg of runtimeClosure(name, byName)) {
			const out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', dir], {
				cwd: byName.get(pkg).dir,
				stdio: ['ignore', 'pipe', 'ignore'],
			});
			// `--json` prints { name, version, filename, files }; filename is the tarball's path
			tarballs[pkg] = `file:./${JSON.parse(out.toString()).filename.split('/').pop()}`;
		}
		const app = {
			name: 'installed-app',
			private: true,
			type: 'module',
			dependencies: tarballs,
			overrides: tarballs,
		};
		writeFileSync(join(dir, 'package.json'), JSON.stringify(app, null, '\t'));
		execFileSync(
			'npm',
			[
				'install',
				'--prefer-offline',
				'--legacy-peer-deps',
				'--ignore-scripts',
				'--no-audit',
				'--no-fund',
				'--loglevel=error',
			],
			{ cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
		);
		return { dir, remove };
	} catch (error) {
		remove();
		throw error;
	}
};
