import { ServerClocks } from '@atcute/oauth-dpop';

// keyed by the clock function: clients on the same clock (the default Date.now, in most apps)
// share what they learn, so an app that makes a client per request does not learn it again each
// time. a clock of its own (a test's) gets its own: offsets are from that clock
const shared = new WeakMap<() => number, ServerClocks>();

/** the `ServerClocks` of every client whose clock is `now`. */
export const serverClocksFor = (now: () => number): ServerClocks => {
	let clocks = shared.get(now);
	if (clocks === undefined) {
		clocks = new ServerClocks({ now });
		shared.set(now, clocks);
	}
	return clocks;
};
