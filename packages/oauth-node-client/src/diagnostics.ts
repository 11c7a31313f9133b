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
 * an `OAuthTracer` that publishes each operation on its `diagnostics_channel` tracing channel;
 * costs a property read when nobody subscribes. the default of the facade's `OAuthClient`.
 */
export const diagnosticsChannelTracer: OAuthTracer = {
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
		return channel
			.tracePromise(async () => {
				result = await fn();
			}, context)
			.then(() => result);
	},
	isTracing(operation: TraceOperation): boolean {
		return subscribed(channelsOf()[operation]);
	},
};
