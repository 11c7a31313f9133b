import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel';

import type { OAuthTracer, TraceContexts, TraceOperation } from '@atcute/oauth-client';

/**
 * the `node:diagnostics_channel` tracing channels the client publishes on, one per operation.
 * each is a `TracingChannel`: subscribe with `tracingChannel(name).subscribe({ start, end,
 * asyncStart, asyncEnd, error })`. messages are the operation's context (see the README); they
 * never hold a token, code, verifier or key, and `result` is always `undefined`.
 * @see https://nodejs.org/api/diagnostics_channel.html#class-tracingchannel
 */
export const OAUTH_TRACING_CHANNELS: { readonly [O in TraceOperation]: string } = {
	authorize: 'atcute:oauth:authorize',
	callback: 'atcute:oauth:callback',
	refresh: 'atcute:oauth:refresh',
	request: 'atcute:oauth:request',
	revoke: 'atcute:oauth:revoke',
};

type Channels = { [O in TraceOperation]: TracingChannel<unknown, TraceContexts[O] & object> };

let channels: Channels | undefined;
const channelsOf = (): Channels => {
	channels ??= {
		authorize: tracingChannel(OAUTH_TRACING_CHANNELS.authorize),
		callback: tracingChannel(OAUTH_TRACING_CHANNELS.callback),
		refresh: tracingChannel(OAUTH_TRACING_CHANNELS.refresh),
		request: tracingChannel(OAUTH_TRACING_CHANNELS.request),
		revoke: tracingChannel(OAUTH_TRACING_CHANNELS.revoke),
	};
	return channels;
};

/**
 * whether anyone subscribes to `channel`. Bun's `TracingChannel` (1.4) has no `hasSubscribers`
 * (it reads `undefined`, and tracing would silently publish nothing): ask its five channels there.
 */
const subscribed = (channel: TracingChannel<unknown, object>): boolean => {
	const own: boolean | undefined = channel.hasSubscribers;
	if (typeof own === 'boolean') return own;
	return (
		channel.start.hasSubscribers ||
		channel.end.hasSubscribers ||
		channel.asyncStart.hasSubscribers ||
		channel.asyncEnd.hasSubscribers ||
		channel.error.hasSubscribers
	);
};

/**
 * whether this runtime's `diagnostics_channel` keeps a subscriber's exception out of the publisher,
 * as Node, Bun and Deno do (they raise it as an `uncaughtException`). workerd's (nodejs_compat)
 * throws it out of `publish()`, and so out of `tracePromise`: the operation would reject with it,
 * after its tokens were stored. there each message is published on its own and what a subscriber
 * throws is reported (`reportError`), not thrown.
 */
const isolatesSubscribers = (): boolean =>
	(globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent !== 'Cloudflare-Workers';

/** reports a subscriber's exception without throwing it into the operation. */
const reportSubscriberError = (err: unknown): void => {
	const report = (globalThis as { reportError?: (err: unknown) => void }).reportError;
	if (typeof report === 'function') report(err);
	else
		queueMicrotask(() => {
			throw err;
		});
};

/** `tracePromise`'s messages, in its order, each published apart and none throwing. */
const traceIsolated = <C extends object>(
	channel: TracingChannel<unknown, C>,
	context: C,
	fn: () => Promise<void>,
): Promise<void> => {
	const message = context as C & { error?: unknown; result?: unknown };
	const publish = (event: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'): void => {
		const target = channel[event];
		if (!target.hasSubscribers) return;
		try {
			target.publish(message);
		} catch (err) {
			reportSubscriberError(err);
		}
	};
	publish('start');
	let promise: Promise<void>;
	try {
		promise = fn();
	} catch (err) {
		message.error = err;
		publish('error');
		publish('end');
		throw err;
	}
	publish('end');
	return promise.then(
		(result) => {
			message.result = result;
			publish('asyncStart');
			publish('asyncEnd');
		},
		(err: unknown) => {
			message.error = err;
			publish('error');
			publish('asyncStart');
			publish('asyncEnd');
			throw err;
		},
	);
};

/**
 * an `OAuthTracer` that publishes each operation on its `diagnostics_channel` tracing channel;
 * costs a property read when nobody subscribes. the default of the facade's `OAuthClient`. its
 * `isTracing` is always there (declared so): whether anyone subscribes to an operation's channel.
 */
export const diagnosticsChannelTracer: Required<OAuthTracer> = {
	trace<O extends TraceOperation, T>(
		operation: O,
		context: TraceContexts[O],
		fn: () => Promise<T>,
	): Promise<T> {
		const channel = channelsOf()[operation] as TracingChannel<unknown, TraceContexts[O] & object>;
		if (!subscribed(channel)) return fn();

		let result: T;
		// the result (a session, a response, tokens) is kept out of the message: the channel sets
		// `context.result` to what the traced function returns, so that function returns nothing
		const traced = async () => {
			result = await fn();
		};
		return (
			isolatesSubscribers() ? channel.tracePromise(traced, context) : traceIsolated(channel, context, traced)
		).then(() => result);
	},
	isTracing(operation: TraceOperation): boolean {
		return subscribed(channelsOf()[operation]);
	},
};
