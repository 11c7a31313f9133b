// shared by @atcute/oauth-client, @atcute/oauth-discovery and @atcute/oauth-dpop (each build
// inlines it): a server's `Date` and `Retry-After` are read the same way wherever they are met.

// the obsolete asctime form, `Sun Nov  6 08:49:37 1994`: GMT, though it names no zone
const ASCTIME =
	/^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ( \d|\d\d) (\d\d):(\d\d):(\d\d) (\d{4})$/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// IMF-fixdate and the obsolete RFC 850 form end in GMT (a server that writes UTC means the same)
const NAMES_GMT = /\s(?:GMT|UTC)$/i;

/**
 * an HTTP date (RFC 9110 §5.6.7) in milliseconds since the epoch, or NaN: all three forms, as a
 * recipient must accept them, each read as GMT. `Date.parse` alone reads an asctime date in the
 * process's own time zone (hours off on a server not on UTC), and takes "-5" or "1.5" for dates.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
 */
export const parseHttpDate = (value: string): number => {
	const asctime = ASCTIME.exec(value);
	if (asctime !== null) {
		const [, month, day, hours, minutes, seconds, year] = asctime;
		const at = Date.UTC(
			Number(year),
			MONTHS.indexOf(month!.toLowerCase()),
			Number(day),
			Number(hours),
			Number(minutes),
			Number(seconds),
		);
		// Date.UTC rolls "Feb 31" over into March: such a date is none
		return new Date(at).getUTCDate() === Number(day) ? at : Number.NaN;
	}
	return NAMES_GMT.test(value) ? Date.parse(value) : Number.NaN;
};
