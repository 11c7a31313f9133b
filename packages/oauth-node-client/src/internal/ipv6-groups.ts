/**
 * an IPv6 address (one `isIP` accepts) as its eight 16-bit groups: `::` expanded to the zeros it
 * stands for, and a dotted IPv4 tail (`::ffff:10.0.0.1`) as the two groups it is.
 */
export const ipv6Groups = (address: string): number[] => {
	const gap = address.indexOf('::');
	if (gap === -1) return groupsIn(address);
	const head = groupsIn(address.slice(0, gap));
	const tail = groupsIn(address.slice(gap + 2));
	const zeros = new Array<number>(8 - head.length - tail.length).fill(0);
	return [...head, ...zeros, ...tail];
};

/** the groups written in a colon-separated run with no `::` in it. */
const groupsIn = (run: string): number[] => {
	const groups: number[] = [];
	if (run === '') return groups;
	for (const part of run.split(':')) {
		if (part.includes('.')) {
			const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
			groups.push((a << 8) | b, (c << 8) | d);
		} else {
			groups.push(Number.parseInt(part, 16));
		}
	}
	return groups;
};
