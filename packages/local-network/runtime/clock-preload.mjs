// preloaded with `node --import` into the PDS process only when startLocalNetwork is asked for a
// steppable clock (`steppableClock: true`): the process's wall clock then runs `offset` ms off the
// machine's (0 at start). server.mjs changes it on a `CLOCK <id> <ms>` line from its parent.
//
// shifted: `Date.now()`, `new Date()` without arguments and `Date()`, read at call time by all the
// PDS and its OAuth provider time expiry with (access tokens, refresh and session lifetimes, PAR
// requests, codes, jose's `exp`/`iat`/`maxTokenAge` checks, the DPoP nonce's rotation), and every
// time the PDS writes to SQLite (JavaScript dates; no SQL `CURRENT_TIMESTAMP`). the HTTP `Date`
// header too, which Node stamps with its own copy of the original Date: it is set here instead,
// as a client reads the server's clock from it.
// not shifted: `performance.now()`, `process.hrtime()` and timers, so neither are lru-cache's TTLs
// (the provider's 10-minute caches of client metadata and JWKS) nor intervals.
import http from 'node:http';

const RealDate = Date;
let offset = 0;

/** the global `Date`, on the shifted clock when called without arguments. */
function SteppedDate(...args) {
	// called as a function, Date() is the current time as a string
	if (new.target === undefined) return new RealDate(RealDate.now() + offset).toString();
	// new.target, not RealDate: `class X extends Date` keeps making X instances
	return Reflect.construct(RealDate, args.length === 0 ? [RealDate.now() + offset] : args, new.target);
}
// the original prototype: `instanceof Date` holds for dates made before this ran, or by Node's own
// copy of Date (fs.Stats, the SQLite driver), and `new Date(x)` stays a plain Date
SteppedDate.prototype = RealDate.prototype;
RealDate.prototype.constructor = SteppedDate;
// Date.parse, Date.UTC
Object.setPrototypeOf(SteppedDate, RealDate);
Object.defineProperty(SteppedDate, 'name', { value: 'Date' });
Object.defineProperty(SteppedDate, 'length', { value: RealDate.length });
SteppedDate.now = function now() {
	return RealDate.now() + offset;
};
globalThis.Date = SteppedDate;

const writeHead = http.ServerResponse.prototype.writeHead;
/** whether `headers` (writeHead's object, flat array or array of pairs) names a Date header. */
const namesDate = (headers) => {
	if (!Array.isArray(headers)) return Object.keys(headers).some((name) => name.toLowerCase() === 'date');
	if (Array.isArray(headers[0])) return headers.some(([name]) => String(name).toLowerCase() === 'date');
	return headers.some((name, i) => i % 2 === 0 && String(name).toLowerCase() === 'date');
};
/** `headers` with a Date header added, in its own form (writeHead takes three). */
const withDate = (headers, date) => {
	if (!Array.isArray(headers)) return { ...headers, date };
	return Array.isArray(headers[0]) ? [...headers, ['date', date]] : [...headers, 'date', date];
};
// every response's headers go out through writeHead (res.end() without it calls it too). the
// Date goes in with the headers writeHead is given, when it is given some: set beforehand, it
// would make Node merge them into its own, which refuses an array of pairs
http.ServerResponse.prototype.writeHead = function writeHeadOnSteppedClock(statusCode, ...rest) {
	if (!this.sendDate || this.headersSent || this.hasHeader('date'))
		return writeHead.call(this, statusCode, ...rest);
	const date = new RealDate(RealDate.now() + offset).toUTCString();
	const last = rest.length - 1;
	if (last >= 0 && typeof rest[last] === 'object' && rest[last] !== null) {
		if (!namesDate(rest[last])) rest[last] = withDate(rest[last], date);
	} else {
		this.setHeader('date', date);
	}
	return writeHead.call(this, statusCode, ...rest);
};

// how server.mjs reaches the clock: it exists only with this preload
globalThis[Symbol.for('@atcute-oauth/local-network:clock')] = {
	get offset() {
		return offset;
	},
	/** sets how far this process's clock runs ahead of the machine's (negative: behind), in ms. */
	setOffset(ms) {
		if (!Number.isSafeInteger(ms)) throw new TypeError(`the clock offset must be an integer, got ${ms}`);
		offset = ms;
	},
};
