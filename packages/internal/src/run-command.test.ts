import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import {
	CommandFailure,
	ConnectionClosedFailure,
	classify,
	readyWaitersOf,
	runCommand,
} from './run-command.ts';

/** an error shaped as ioredis gives a Redis error reply. */
const reply = (message: string, args: string[] = []) =>
	Object.assign(new Error(message), { name: 'ReplyError', command: { name: 'eval', args } });

describe('classify', () => {
	it('takes a reply that means "not now" as transient, and any other as a refusal', () => {
		expect(classify(reply('OOM command not allowed when used memory > maxmemory.')).transient).toBe(true);
		expect(classify(reply('READONLY You can not write against a read only replica.')).transient).toBe(true);
		expect(classify(reply("NOPERM this user has no permissions to run the 'eval' command")).transient).toBe(
			false,
		);
		expect(classify(new Error('Connection is closed.')).transient).toBe(true);
	});

	it('says Redis refused for now when it answered with a passing condition, and did not answer when it did not', () => {
		const oom = classify(reply('OOM command not allowed when used memory > maxmemory.'));
		expect(oom).toMatchObject({
			transient: true,
			message: 'Redis refused for now: OOM command not allowed when used memory > maxmemory.',
		});
		expect(classify(reply('LOADING Redis is loading the dataset in memory')).message).toBe(
			'Redis refused for now: LOADING Redis is loading the dataset in memory',
		);
		expect(classify(reply('NOPERM no permissions')).message).toBe(
			'Redis refused the command: NOPERM no permissions',
		);
		const closed = classify(new Error('Connection is closed.'));
		expect(closed).toMatchObject({ transient: true, message: 'Redis did not answer: Connection is closed.' });
		const gaveUp = classify(
			Object.assign(new Error('Reached the max retries per request limit (which is 20).'), {
				name: 'MaxRetriesPerRequestError',
			}),
		);
		expect(gaveUp).toMatchObject({
			transient: true,
			message: expect.stringMatching(/^Redis did not answer: /),
		});
	});

	it("reads the reply a script's command met inside Redis 6's wrapping", () => {
		const wrapped = (inner: string) =>
			reply(`ERR Error running script (call to f_0123abcd): @user_script:3: -${inner}`);
		expect(classify(wrapped('OOM command not allowed when used memory > maxmemory.')).transient).toBe(true);
		expect(classify(wrapped('READONLY You can not write against a read only replica.')).transient).toBe(true);
		expect(classify(wrapped('NOPERM this user has no permissions to access one of the keys')).transient).toBe(
			false,
		);
		expect(
			classify(
				reply(
					'ERR Error running script (call to f_0123abcd): @user_script:1: user_script:1: Script attempted to access nonexistent global variable',
				),
			).transient,
		).toBe(false);
	});

	it('keeps the arguments out, those Redis quotes in its message too', () => {
		const failure = classify(
			reply("ERR unknown command 'getdel', with args beginning with: 'oauth:state-secret' ", [
				'oauth:state-secret',
			]),
		);
		expect(failure.transient).toBe(false);
		expect(
			`${failure.message} ${(failure.cause as Error).message} ${JSON.stringify(failure.cause)}`,
		).not.toContain('state-secret');
		// logging an error prints its cause's stack, whose first line is the message as it was
		expect((failure.cause as Error).stack).toMatch(/^ReplyError: ERR unknown command 'getdel'/);
		expect((failure.cause as Error).stack).toContain('\n    at ');
		expect((failure.cause as Error).stack).not.toContain('state-secret');
	});
});

describe('runCommand', () => {
	it('sends over a client with no stream of its own (a Cluster) once its status is ready', async () => {
		const cluster = { status: 'ready' } as unknown as Redis;
		await expect(runCommand(cluster, { timeout: 100 }, async () => 'sent')).resolves.toBe('sent');
	});

	it('sends nothing over a socket already closed for writing, though the status still says ready', async () => {
		let sent = false;
		const closing = {
			status: 'ready',
			stream: { writable: false, _writableState: { ended: true } },
			once: () => {},
			on: () => {},
			off: () => {},
		} as unknown as Redis;
		const failure = await runCommand(closing, { timeout: 50 }, async () => {
			sent = true;
		}).catch((err: unknown) => err);
		expect(failure).toBeInstanceOf(CommandFailure);
		expect(sent).toBe(false);
	});
});

describe('runCommand on a client closed for good', () => {
	/** a stand-in client with `status`, whose 'ready', 'end' and 'error' listeners the test can fire. */
	const fakeClient = (status: string) => {
		const listeners = new Map<string, (arg?: unknown) => void>();
		const client = {
			status,
			once: (event: string, listener: () => void) => listeners.set(event, listener),
			on: (event: string, listener: (arg?: unknown) => void) => listeners.set(event, listener),
			off: (event: string) => listeners.delete(event),
		};
		return {
			redis: client as unknown as Redis,
			client,
			emit: (event: string, arg?: unknown) => listeners.get(event)?.(arg),
		};
	};
	const failureOf = (pending: Promise<unknown>): Promise<unknown> =>
		pending.then(
			(value) => ({ resolved: value }),
			(err: unknown) => err,
		);

	it('fails at once, not transient, when the status is already end (quit, disconnect, reconnection given up)', async () => {
		const { redis } = fakeClient('end');
		let sent = false;
		const failure = await failureOf(
			runCommand(redis, { timeout: 60_000 }, async () => {
				sent = true;
			}),
		);
		expect(failure).toMatchObject({ transient: false, message: expect.stringMatching(/closed for good/) });
		expect(failure).toBeInstanceOf(ConnectionClosedFailure);
		expect(sent).toBe(false);
	});

	it('fails, not transient, when the client ends while the command waits for a connection', async () => {
		const { redis, client, emit } = fakeClient('reconnecting');
		const pending = failureOf(runCommand(redis, { timeout: 60_000 }, async () => 'sent'));
		client.status = 'end';
		emit('end');
		const failure = await pending;
		expect(failure).toMatchObject({ transient: false, message: expect.stringMatching(/closed for good/) });
		expect(failure).toBeInstanceOf(ConnectionClosedFailure);
	});

	it('fails, not transient, when ioredis rejects the sent command as the client ends under it', async () => {
		const { redis, client } = fakeClient('ready');
		const failure = await failureOf(
			runCommand(redis, { timeout: 60_000 }, async () => {
				// what ioredis's close handler does: status end, then the queue flushed with this error
				client.status = 'end';
				throw new Error('Connection is closed.');
			}),
		);
		expect(failure).toMatchObject({
			transient: false,
			message: expect.stringMatching(/closed for good before the command was answered/),
			cause: expect.objectContaining({ message: 'Connection is closed.' }),
		});
		expect(failure).toBeInstanceOf(ConnectionClosedFailure);
	});

	it('stays transient for the same error while the client is still to reconnect', async () => {
		const { redis, client } = fakeClient('ready');
		const failure = await failureOf(
			runCommand(redis, { timeout: 60_000 }, async () => {
				client.status = 'reconnecting';
				throw new Error('Connection is closed.');
			}),
		);
		expect(failure).toBeInstanceOf(CommandFailure);
		expect(failure).toMatchObject({
			transient: true,
			message: 'Redis did not answer: Connection is closed.',
		});
		expect(failure).not.toBeInstanceOf(ConnectionClosedFailure);
	});

	it('keeps nothing of the commands that gave up waiting for a connection, however many', async () => {
		const { redis, client, emit } = fakeClient('reconnecting');
		const failures = await Promise.all(
			Array.from({ length: 200 }, () => failureOf(runCommand(redis, { timeout: 1 }, async () => 'sent'))),
		);
		expect(failures.every((failure) => failure instanceof CommandFailure && failure.transient)).toBe(true);
		// Redis away for hours, ioredis reconnecting all along: what gave up is gone at once
		expect(readyWaitersOf(redis)).toBe(0);
		const waiting = runCommand(redis, { timeout: 60_000 }, async () => 'sent');
		expect(readyWaitersOf(redis)).toBe(1);
		client.status = 'ready';
		emit('ready');
		await expect(waiting).resolves.toBe('sent');
		expect(readyWaitersOf(redis)).toBe(0);
	});

	it('stays transient when a client waiting to reconnect runs out of time', async () => {
		const { redis } = fakeClient('reconnecting');
		const failure = await failureOf(runCommand(redis, { timeout: 20 }, async () => 'sent'));
		expect(failure).toMatchObject({
			transient: true,
			message: expect.stringMatching(/not connected within 20 ms/),
		});
	});

	/** an error as ioredis makes it for a reply of Redis's (its class is named ReplyError). */
	const replyError = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' });

	it("tells Redis's refusal of the connection, not transient, and names a lost link's error, transient", async () => {
		const refused = fakeClient('reconnecting');
		const pending = failureOf(runCommand(refused.redis, { timeout: 20 }, async () => 'sent'));
		refused.emit('error', replyError('WRONGPASS invalid username-password pair or user is disabled.'));
		expect(await pending).toMatchObject({
			transient: false,
			message: expect.stringMatching(/not connected within 20 ms .*refused the connection: WRONGPASS/),
			cause: { name: 'ReplyError' },
		});

		const loading = fakeClient('reconnecting');
		const waiting = failureOf(runCommand(loading.redis, { timeout: 20 }, async () => 'sent'));
		loading.emit('error', replyError('LOADING Redis is loading the dataset in memory'));
		expect(await waiting).toMatchObject({ transient: true, message: expect.stringMatching(/LOADING/) });

		const unreachable = fakeClient('reconnecting');
		const away = failureOf(runCommand(unreachable.redis, { timeout: 20 }, async () => 'sent'));
		unreachable.emit(
			'error',
			Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }),
		);
		expect(await away).toMatchObject({
			transient: true,
			message: expect.stringMatching(
				/not connected within 20 ms .*last connection attempt failed: connect ECONNREFUSED/,
			),
		});
	});
});

describe('runCommand deadlines and the event loop', () => {
	/** how many timers keep the process alive now. */
	const liveTimers = (): number =>
		process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
	/** a client waiting to reconnect, and one that sends at once. */
	const clients = {
		'waiting for a connection': () =>
			({ status: 'reconnecting', once: () => {}, on: () => {}, off: () => {} }) as unknown as Redis,
		'waiting for an answer': () => ({ status: 'ready' }) as unknown as Redis,
	};
	/** starts a command that never gets an answer; how many live timers it added. */
	const timersAdded = async (redis: Redis, unref: boolean | undefined): Promise<number> => {
		const controller = new AbortController();
		const before = liveTimers();
		const pending = runCommand(
			redis,
			{ timeout: 60_000, signal: controller.signal, unref },
			() => new Promise<never>(() => {}),
		);
		// the deadline's timer is set before runCommand first yields
		const added = liveTimers() - before;
		controller.abort(new Error('test done'));
		await expect(pending).rejects.toThrow('test done');
		return added;
	};

	for (const [phase, client] of Object.entries(clients)) {
		it(`keeps the process alive for an awaited command ${phase}, by default`, async () => {
			// its caller must get its time-out even when nothing else keeps the event loop running
			expect(await timersAdded(client(), undefined)).toBe(1);
			expect(await timersAdded(client(), false)).toBe(1);
		});

		it(`lets the process exit during a command nobody awaits (unref) ${phase}`, async () => {
			expect(await timersAdded(client(), true)).toBe(0);
		});
	}
});
