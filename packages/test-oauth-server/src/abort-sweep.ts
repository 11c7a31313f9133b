import { getEventListeners } from 'node:events';

/**
 * the harness of the abort sweeps (`@atcute/oauth-client`'s and the facade's): a call is run once
 * with no abort to learn the async steps it goes through (requests, body chunks, store and lock
 * calls, whatever the test wraps in `steps.around`), then once per step and moment, with the app's
 * signal aborted there, and checked each time. test tooling only: exported from its own entry
 * point, never from the package's index.
 */

/**
 * where, relative to a step, the app's signal aborts: as the step begins (before it runs), while
 * it is under way (started, not yet settled), before it starts with its answer then held back
 * until the call settled (a wait, such as a lock's, starts only then), or once it settled (before
 * its caller sees it).
 */
export type AbortMoment = 'begins' | 'pending' | 'held' | 'settled';
export const ABORT_MOMENTS: readonly AbortMoment[] = ['begins', 'pending', 'held', 'settled'];

export interface AbortPlan {
	at: number;
	moment: AbortMoment;
	controller: AbortController;
	/** settles once the call under test has: a held step is released then. */
	callSettled?: Promise<unknown>;
}

/** what a promise settled with. */
export type Outcome<T = unknown> = { ok: true; value: T } | { ok: false; error: unknown };

export const outcome = <T>(promise: Promise<T>): Promise<Outcome<T>> =>
	promise.then(
		(value) => ({ ok: true as const, value }),
		(error: unknown) => ({ ok: false as const, error }),
	);

/** the reason a sweep aborts with by default: an Error naming the step and the moment. */
const describeAbort = (name: string, moment: AbortMoment): Error => {
	const where = {
		begins: `as ${name} begins`,
		pending: `while ${name} is pending`,
		held: `while ${name} is held`,
		settled: `once ${name} settled`,
	}[moment];
	return new Error(`aborted ${where}`);
};

/**
 * resolves once `settled` has, or after a few turns of the event loop when the call waits on the
 * held step itself (it cannot settle before the step is released).
 */
const released = async (settled: Promise<unknown> | undefined): Promise<void> => {
	let done = false;
	void settled?.then(
		() => (done = true),
		() => (done = true),
	);
	for (let turn = 0; turn < 20 && !done; turn++) await new Promise((resolve) => setImmediate(resolve));
};

/** the async steps of one call, in order; a plan aborts the app's signal at one of them. */
export class AbortSteps {
	names: string[] = [];
	plan: AbortPlan | undefined;

	constructor(readonly reasonFor: (name: string, moment: AbortMoment) => unknown = describeAbort) {}

	reset(plan?: AbortPlan): void {
		this.names = [];
		this.plan = plan;
	}

	/**
	 * runs one step. `deferred`: the step is a wait (a lock's acquisition), which a held step has
	 * not got yet when the abort comes: it starts only once released.
	 */
	async around<T>(name: string, run: () => T | Promise<T>, deferred = false): Promise<Awaited<T>> {
		const at = this.names.length;
		this.names.push(name);
		const plan = this.plan?.at === at ? this.plan : undefined;
		const abort = (moment: AbortMoment) => plan!.controller.abort(this.reasonFor(name, moment));
		if (plan?.moment === 'begins') abort('begins');
		if (plan?.moment === 'held') {
			abort('held');
			if (deferred) {
				await released(plan.callSettled);
				return await run();
			}
			const running = (async () => run())();
			// its failure is the caller's to see once released, not an unhandled rejection meanwhile
			running.catch(() => {});
			await released(plan.callSettled);
			return await running;
		}
		const running = (async () => run())();
		// under way: the step's promise is held until the abort has been delivered
		if (plan?.moment === 'pending') abort('pending');
		const value = await running;
		if (plan?.moment === 'settled') abort('settled');
		return value;
	}
}

/** the store calls a client makes, each a step of the sweep. */
interface SteppableStore<V> {
	get(key: string): V | undefined | Promise<V | undefined>;
	set(key: string, value: V, options?: { expiresAt?: number }): void | Promise<void>;
	delete(key: string): void | Promise<void>;
	take?(key: string): V | undefined | Promise<V | undefined>;
	clear(): void | Promise<void>;
}

/** a store whose every call is a step of the sweep. */
export interface SteppedStore<V> {
	get(key: string): Promise<V | undefined>;
	set(key: string, value: V, options?: { expiresAt?: number }): Promise<void>;
	delete(key: string): Promise<void>;
	take?(key: string): Promise<V | undefined>;
	clear(): void | Promise<void>;
}

/** `store` with every call a step named `label.method`; `take` only when the store has it. */
export const steppedStore = <V>(
	steps: AbortSteps,
	label: string,
	store: SteppableStore<V>,
): SteppedStore<V> => {
	const stepped: SteppedStore<V> = {
		get: (key) => steps.around(`${label}.get`, () => store.get(key)),
		set: (key, value, options) => steps.around(`${label}.set`, () => store.set(key, value, options)),
		delete: (key) => steps.around(`${label}.delete`, () => store.delete(key)),
		clear: () => store.clear(),
	};
	if (store.take !== undefined) stepped.take = (key) => steps.around(`${label}.take`, () => store.take!(key));
	return stepped;
};

/** a response whose body is read through steps, one per chunk. */
export const steppedBody = (steps: AbortSteps, name: string, response: Response): Response => {
	if (response.body === null) return response;
	const reader = response.body.getReader();
	const body = new ReadableStream<Uint8Array>({
		pull: (controller) =>
			steps.around(`body ${name}`, async () => {
				const { done, value } = await reader.read();
				if (done) controller.close();
				else controller.enqueue(value);
			}),
		cancel: (reason) => reader.cancel(reason),
	});
	return new Response(body, {
		status: response.status,
		statusText: response.statusText,
		headers: response.headers,
	});
};

/** a request's method and path, whatever form the fetch was given. */
export const describeRequest = (input: string | URL | Request, init?: RequestInit): string => {
	const url = new URL(input instanceof Request ? input.url : input);
	const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
	return `${method} ${url.pathname}`;
};

/**
 * the listeners left on `signal`: not undici's own, which its `fetch` leaves on every request's
 * signal until the request is collected.
 */
export const listenersOn = (signal: AbortSignal): number =>
	getEventListeners(signal, 'abort').filter((listener) => !String(listener).includes('acRef.deref')).length;

export interface AbortSweep<H, P> {
	/** a fresh client (and whatever the checks read) whose steps go through `steps`. */
	harness: (steps: AbortSteps) => Promise<H>;
	/** ends a harness: its client's `close()`. */
	close: (h: H) => Promise<void>;
	/** what the call needs, made before the plan starts (not swept). */
	prepare: (h: H) => Promise<P>;
	/** the call, given the signal the plan aborts. */
	run: (h: H, prepared: P, signal: AbortSignal) => Promise<unknown>;
	/** throws what is wrong after the call settled with `result`; `reason` is the signal's. */
	check: (h: H, prepared: P, result: Outcome, reason: unknown) => Promise<void>;
	/** every moment by default; a sweep of odd abort reasons needs only one to reach every step. */
	moments?: readonly AbortMoment[] | undefined;
	reasonFor?: ((name: string, moment: AbortMoment) => unknown) | undefined;
}

/**
 * runs the sweep; resolves with what went wrong, one line per step and moment. every aborted call
 * must reject with the signal's reason as it is (or resolve), pass `check`, leave no listener on
 * the signal once its client closed, and leave no rejection unhandled.
 */
export const sweepAborts = async <H, P>(sweep: AbortSweep<H, P>): Promise<string[]> => {
	const failures: string[] = [];
	let unhandled: unknown[] = [];
	const onUnhandled = (reason: unknown) => unhandled.push(reason);
	process.on('unhandledRejection', onUnhandled);
	try {
		const learn = async (plan: AbortPlan | undefined) => {
			const steps = new AbortSteps(sweep.reasonFor);
			const h = await sweep.harness(steps);
			const prepared = await sweep.prepare(h);
			const controller = plan?.controller ?? new AbortController();
			steps.reset(plan);
			const running = outcome(sweep.run(h, prepared, controller.signal));
			if (plan !== undefined) plan.callSettled = running;
			const result = await running;
			const names = [...steps.names];
			steps.reset();
			return { h, prepared, result, names, controller };
		};
		const control = await learn(undefined);
		if (!control.result.ok) throw control.result.error;
		const listenersLeft = listenersOn(control.controller.signal);
		if (listenersLeft !== 0) failures.push(`no abort: ${listenersLeft} listener(s) left on the signal`);
		await sweep.close(control.h);

		for (let at = 0; at < control.names.length; at++) {
			for (const moment of sweep.moments ?? ABORT_MOMENTS) {
				const controller = new AbortController();
				const { h, prepared, result, names } = await learn({ at, moment, controller });
				const where = `${moment} ${names[at] ?? control.names[at]} (step ${at})`;
				try {
					if (!result.ok && result.error !== controller.signal.reason) {
						throw new Error(`rejected with ${String(result.error)}, not the signal's reason`);
					}
					await sweep.check(h, prepared, result, controller.signal.reason);
					await sweep.close(h);
					const left = listenersOn(controller.signal);
					if (left !== 0) throw new Error(`${left} listener(s) left on the signal`);
					// a rejection nobody handles is reported after the turn it was left in
					await new Promise((resolve) => setImmediate(resolve));
					if (unhandled.length > 0) throw new Error(`unhandled rejection: ${String(unhandled[0])}`);
				} catch (err) {
					failures.push(`${where}: ${(err as Error).message}`);
					unhandled = [];
				}
			}
		}
		return failures;
	} finally {
		process.off('unhandledRejection', onUnhandled);
	}
};
