// preloaded (`--import`) into the sign-in bench's processes: names under `.localhost` resolve to
// 127.0.0.1, as RFC 6761 §6.3 reserves them for loopback (the system resolver here does not).
// upstream refuses an https URL whose host is literally 127.0.0.1 or localhost, so the test
// server is named `bench.localhost`: still loopback, and every client resolves it the same way.
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

const systemLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
	if (typeof hostname === 'string' && hostname.endsWith('.localhost')) {
		const done = typeof options === 'function' ? options : callback;
		const all = typeof options === 'object' && options?.all;
		process.nextTick(() =>
			all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4),
		);
		return {};
	}
	return systemLookup.call(this, hostname, options, callback);
};
// the ESM named export (`import { lookup } from 'node:dns'`) follows
syncBuiltinESMExports();
