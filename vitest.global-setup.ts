import { execFileSync } from 'node:child_process';

/**
 * builds every package once, before any test file starts. most tests run on the TypeScript
 * sources, but those that spawn real child processes (cross-process locks, the demo, the setup
 * script) run plain node on the built packages; building here, once, means no test file rebuilds
 * `dist` while another file's children are reading it. turbo's cache makes this about a second.
 */
export default function buildPackages(): void {
	execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
		stdio: 'inherit',
		env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
	});
}
