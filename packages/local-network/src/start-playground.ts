import { randomBytes } from 'node:crypto';

import { type RunningServer, startServer } from '@atcute-oauth/example-hono-app';

import { type LocalAccount, type LocalNetwork, startLocalNetwork } from './start-local-network.ts';

/** options for `startPlayground`. */
export interface PlaygroundOptions {
	/** the app's port on 127.0.0.1; default 3000, or a free one when 3000 is taken. */
	port?: number | undefined;
	/** the test account's handle; default `alice.test`. */
	handle?: string | undefined;
	/** its password; default a random one. */
	password?: string | undefined;
	/** the app's own startup lines; default none. */
	log?: ((line: string) => void) | undefined;
}

/** a running playground. */
export interface Playground {
	/** the URL to open in a browser on this machine. */
	url: string;
	/** the test account to sign in with. */
	account: LocalAccount;
	network: LocalNetwork;
	app: RunningServer;
	/** stops the app and the network. */
	close(): Promise<void>;
}

const DEFAULT_PORT = 3000;

/**
 * the local network plus the example app for a person at a browser on this machine. the app is
 * a loopback client (`http://127.0.0.1:<port>`): a browser reaches it and the PDS
 * (`http://localhost:<port>`) without TLS, and the PDS needs to fetch nothing from it.
 */
export const startPlayground = async (options: PlaygroundOptions = {}): Promise<Playground> => {
	const network = await startLocalNetwork({
		accounts: [{ handle: options.handle ?? 'alice.test', password: options.password }],
	});
	const start = (port: number): Promise<RunningServer> =>
		startServer({
			port,
			cookieSecret: randomBytes(32).toString('base64url'),
			plcUrl: network.plcUrl,
			handleResolverUrl: network.pdsUrl,
			allowHttp: true,
			log: options.log ?? (() => {}),
			warn: () => {},
		});

	let app: RunningServer;
	try {
		const port = options.port ?? DEFAULT_PORT;
		try {
			app = await start(port);
		} catch (error) {
			// the default port is only a preference: the loopback client's redirect URI names
			// whichever port the app gets
			if (options.port !== undefined || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
			app = await start(0);
		}
	} catch (error) {
		await network.close();
		throw error;
	}

	return {
		url: app.url,
		account: network.accounts[0]!,
		network,
		app,
		async close() {
			await app.close();
			await network.close();
		},
	};
};
