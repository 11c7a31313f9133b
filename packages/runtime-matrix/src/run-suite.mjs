// the entry point each server runtime (Node, Bun, Deno) runs: reads the lane's settings from
// MATRIX_CONFIG, runs the suite against the built packages, and prints one line
// `MATRIX_RESULT <json>` for bin/run-matrix.mjs.
import { createControl } from './suite/control.mjs';
import { createSuite, describeError } from './suite/harness.mjs';
import { runtimeName } from './suite/runtime-name.mjs';

const runtime = runtimeName();
try {
	const config = JSON.parse(globalThis.process.env.MATRIX_CONFIG ?? '{}');
	// imported here, so that a package that does not load is reported as a failure
	const { addCoreTests } = await import('./suite/core-tests.mjs');
	const { addServerTests } = await import('./suite/server-tests.mjs');
	const control = createControl(config.controlUrl);
	const suite = createSuite();
	addCoreTests(suite, { control });
	addServerTests(suite, {
		control,
		redisUrl: config.redisUrl,
		postgresUrl: config.postgresUrl,
		tmpDir: config.tmpDir,
		runtime,
	});
	// before the lifecycle tests below: those end a grant on purpose, which the flow's refusal check would see
	const { addEs256kRestoreTest, addTracingTests } = await import('./suite/tracing-tests.mjs');
	addTracingTests(suite, { control });
	addEs256kRestoreTest(suite);
	const { addLifecycleTests } = await import('./suite/lifecycle-tests.mjs');
	const { coreLifecycleLib } = await import('./suite/lifecycle-libs.mjs');
	const facade = await import('@atcute/oauth-node-client');
	addLifecycleTests(suite, { control, lib: coreLifecycleLib, label: 'core' });
	addLifecycleTests(suite, { control, lib: facade, label: 'facade' });
	const results = await suite.run(config.filter);
	console.log(`MATRIX_RESULT ${JSON.stringify({ runtime, results })}`);
} catch (err) {
	// a failure outside any test (an import that does not load, say) is one failed result
	console.log(
		`MATRIX_RESULT ${JSON.stringify({ runtime, results: [{ name: 'load the suite', ok: false, ms: 0, error: describeError(err) }] })}`,
	);
}
// ioredis or a server socket must not keep the process alive
globalThis.process.exit(0);
