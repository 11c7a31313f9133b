import { createServer } from 'node:net';

/** a TCP port that was free on 127.0.0.1 a moment ago. */
export const freePort = () =>
	new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
