// shared by @atcute/oauth-client, @atcute/oauth-discovery and @atcute/oauth-dpop (each build
// inlines it): a server's `Date` and `Retry-After` are read the same way wherever they are met.

const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d\\d):(\\d\\d):(\\d\\d)';
// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT` (a server that writes UTC means the same). a day
// of one digit is read too, as RFC 5322 writes it: recipients are asked to be robust (§5.6.7), and
// a wait ignored is a retry sooner than the server asked
const IMF_FIXDATE = new RegExp(
	`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d\\d?) ${MONTH} (\\d{4}) ${TIME} (?:GMT|UTC)$`,
	'i',
);
// the obsolete RFC 850 form, `Sunday, 06-Nov-94 08:49:37 GMT`
const RFC_850 = new RegExp(
	`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d\\d)-${MONTH}-(\\d\\d) ${TIME} (?:GMT|UTC)$`,
	'i',
);
// the obsolete asctime form, `Sun Nov  6 08:49:37 1994`: GMT, though it names no zone
const ASCTIME = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ( \\d|\\d\\d) ${TIME} (\\d{4})$`, 'i');
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** the instant, or NaN for a day the month lacks (`Feb 31`) or a time of day past its range. */
const instant = (year: number, month: string, day: string, h: string, m: string, s: string): number => {
	const [hours, minutes, seconds] = [Number(h), Number(m), Number(s)];
	// a leap second (60) is a valid second (RFC 9110 §5.6.7)
	if (hours > 23 || minutes > 59 || seconds > 60) return Number.NaN;
	const at = Date.UTC(year, MONTHS.indexOf(month.toLowerCase()), Number(day), hours, minutes, seconds);
	// Date.UTC rolls "Feb 31" over into March: such a date is none
	return new Date(at).getUTCDate() === Number(day) ? at : Number.NaN;
};

/**
 * an HTTP date (RFC 9110 §5.6.7) in milliseconds since the epoch, or NaN: all three forms, as a
 * recipient must accept them, each read as GMT, and nothing else. `Date.parse` reads an asctime
 * date in the process's own time zone (hours off on a server not on UTC), and takes "-5 GMT" or
 * "1.5 GMT" for dates, and "31 Feb" for March.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
 */
export const parseHttpDate = (value: string): number => {
	const imf = IMF_FIXDATE.exec(value);
	if (imf !== null) {
		const [, day, month, year, h, m, s] = imf;
		return instant(Number(year), month!, day!, h!, m!, s!);
	}
	const rfc850 = RFC_850.exec(value);
	if (rfc850 !== null) {
		const [, day, month, yy, h, m, s] = rfc850;
		// a two-digit year more than 50 years ahead is the most recent past year ending so (§5.6.7)
		const thisYear = new Date().getUTCFullYear();
		let year = Math.floor(thisYear / 100) * 100 + Number(yy);
		if (year > thisYear + 50) year -= 100;
		return instant(year, month!, day!, h!, m!, s!);
	}
	const asctime = ASCTIME.exec(value);
	if (asctime !== null) {
		const [, month, day, h, m, s, year] = asctime;
		return instant(Number(year), month!, day!, h!, m!, s!);
	}
	return Number.NaN;
};
