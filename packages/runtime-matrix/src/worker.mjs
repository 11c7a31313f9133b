// the Workers entry point: the core's tests, run inside a request (workerd lets code draw random
// values and do I/O only while it handles one). bin/run-matrix.mjs bundles this file with
// esbuild, serves it with workerd on a loopback port and POSTs the lane's settings.
import { createControl } from './suite/control.mjs';
import { addCoreTests } from './suite/core-tests.mjs';
import { createSuite } from './suite/harness.mjs';
import { coreLifecycleLib } from './suite/lifecycle-libs.mjs';
import { addLifecycleTests } from './suite/lifecycle-tests.mjs';

export default {
	async fetch(request) {
		const config = await request.json();
		const suite = createSuite();
		const control = createControl(config.controlUrl);
		addCoreTests(suite, { control });
		addLifecycleTests(suite, { control, lib: coreLifecycleLib, label: 'core' });
		return Response.json({ results: await suite.run(config.filter) });
	},
};
