import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

/** a port on 127.0.0.1 whose connections do not open: a new TCP connect there stays pending. */
export interface UnacceptingPort {
	port: number;
	close(): Promise<void>;
}

// a listener with a one-place queue on a thread that then blocks: it accepts nothing, the kernel
// queues what it can, and drops the SYNs that come after (the client retries them for minutes)
const LISTENER = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
	parentPort.postMessage(server.address().port);
	Atomics.wait(workerData, 0, 0);
	server.close();
});
`;

export const startUnacceptingPort = async (): Promise<UnacceptingPort> => {
	const release = new Int32Array(new SharedArrayBuffer(4));
	const worker = new Worker(LISTENER, { eval: true, workerData: release });
	const port = await new Promise<number>((resolve) => worker.once('message', resolve));
	// fill the queue; the later of these stay pending themselves
	const fillers: Socket[] = [];
	for (let i = 0; i < 4; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => {}));
	await new Promise((resolve) => setTimeout(resolve, 100));
	return {
		port,
		close: async () => {
			for (const socket of fillers) socket.destroy();
			Atomics.store(release, 0, 1);
			Atomics.notify(release, 0);
			await worker.terminate();
		},
	};
};
