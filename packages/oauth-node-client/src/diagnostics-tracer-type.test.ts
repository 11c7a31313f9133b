import { subscribe, unsubscribe } from 'node:diagnostics_channel';

import { describe, expect, expectTypeOf, it } from 'vitest';

import { diagnosticsChannelTracer, OAUTH_TRACING_CHANNELS, type TraceOperation } from './index.ts';

// the README: "`diagnosticsChannelTracer.isTracing(operation)` tells whether a channel has
// subscribers". the default tracer always has it, so its declared type must not make it optional
describe('diagnosticsChannelTracer type', () => {
	it('declares isTracing as always present, as the runtime has it', () => {
		expectTypeOf(diagnosticsChannelTracer.isTracing).toEqualTypeOf<(operation: TraceOperation) => boolean>();
		expect(typeof diagnosticsChannelTracer.isTracing).toBe('function');
	});

	it('is called as the README writes it, without optional chaining', () => {
		const start = `tracing:${OAUTH_TRACING_CHANNELS.revoke}:start`;
		const handler = () => {};
		expect(diagnosticsChannelTracer.isTracing('revoke')).toBe(false);
		subscribe(start, handler);
		try {
			expect(diagnosticsChannelTracer.isTracing('revoke')).toBe(true);
		} finally {
			unsubscribe(start, handler);
		}
	});
});
