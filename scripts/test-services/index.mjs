#!/usr/bin/env node
// the services the tests need, made ready before any test file starts: the root vitest global
// setup calls prepareTestServices() for the projects of the run, and `.ci/run` runs this file for
// all of them, so the README's `pnpm test` and CI get their services the same way. a service that
// is missing is installed when it can be (saying so), else the run stops at once with one line
// naming what is missing and the command that installs it. a new service (PostgreSQL, say) is one
// more file exporting a TestService, listed in TEST_SERVICES.
//
// usage: node scripts/test-services/index.mjs   (all services; exit 1 with that one line)
// TEST_SERVICES_NO_INSTALL=1: install nothing, only check (the run fails on what is missing).
// runs on plain Node >= 20 with no dependencies.
import { fileURLToPath } from 'node:url';

import { localNetworkRuntime } from './local-network-runtime.mjs';
import { redisServer } from './redis-server.mjs';
import { ServiceMissingError } from './service-missing-error.mjs';

export { ServiceMissingError };

/**
 * @typedef {object} TestService
 * @property {string} name what it is, for messages
 * @property {readonly string[]} projects the vitest projects (package folder names) whose tests need it
 * @property {(context: { log: (line: string) => void; install: boolean }) => void} ensure
 *   returns when the service is usable (installing it first when `install` allows and it can);
 *   throws a ServiceMissingError, with its one line, when it is not
 */

/** every service the tests need, in the order they are made ready. */
export const TEST_SERVICES = [redisServer, localNetworkRuntime];

/** false when TEST_SERVICES_NO_INSTALL is set (to anything but `0` or empty). */
export const installAllowed = () => {
	// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by the test setup, never by a turbo task
	const value = process.env.TEST_SERVICES_NO_INSTALL;
	return value === undefined || value === '' || value === '0';
};

/**
 * makes ready the services that the given vitest projects need (every service when `projects`
 * is undefined). `log` gets a line for each install step, nothing when all is in place.
 * @param {{ projects?: readonly string[]; log?: (line: string) => void }} [options]
 * @throws {ServiceMissingError} when a service is missing and could not be installed
 */
export const prepareTestServices = ({ projects, log = (line) => console.log(line) } = {}) => {
	const install = installAllowed();
	for (const service of TEST_SERVICES) {
		if (projects !== undefined && !service.projects.some((project) => projects.includes(project))) continue;
		service.ensure({ log, install });
	}
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
	try {
		prepareTestServices();
		console.log(`test services: ready (${TEST_SERVICES.map((service) => service.name).join(', ')})`);
	} catch (error) {
		if (!(error instanceof ServiceMissingError)) throw error;
		console.error(error.message);
		process.exitCode = 1;
	}
}
