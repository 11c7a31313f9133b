// preloaded with `node --import` into the PDS process: the host names in LOCAL_NETWORK_HOSTS
// (comma-separated) resolve to 127.0.0.1 in this process only, so the OAuth provider can fetch a
// confidential client's metadata from `https://<client host>:<port>/…` without /etc/hosts (no
// root, nothing left behind). other names resolve as usual. loopback is the only target: this
// cannot point a name anywhere else.
import dns from 'node:dns';

const LOOPBACK = '127.0.0.1';
const names = new Set(
	(process.env.LOCAL_NETWORK_HOSTS ?? '')
		.split(',')
		.map((name) => name.trim().toLowerCase())
		.filter(Boolean),
);

if (names.size > 0) {
	const lookup = dns.lookup;
	// net.connect reads dns.lookup at call time, so fetch (undici) and https both see this
	dns.lookup = function mappedLookup(hostname, options, callback) {
		const done = typeof options === 'function' ? options : callback;
		const opts =
			typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : options;
		if (!names.has(String(hostname).toLowerCase())) return lookup.call(dns, hostname, opts ?? {}, done);
		process.nextTick(() => {
			if (opts?.all) done(null, [{ address: LOOPBACK, family: 4 }]);
			else done(null, LOOPBACK, 4);
		});
		return {};
	};

	const lookupPromise = dns.promises.lookup;
	dns.promises.lookup = async function mappedLookup(hostname, options = {}) {
		if (!names.has(String(hostname).toLowerCase()))
			return lookupPromise.call(dns.promises, hostname, options);
		return typeof options === 'object' && options?.all
			? [{ address: LOOPBACK, family: 4 }]
			: { address: LOOPBACK, family: 4 };
	};
}
