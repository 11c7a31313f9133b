/** why a value is not a valid permission: a message that names the field and the value. */
export class Problem {
	constructor(readonly message: string) {}
}

/** a value for an error message: strings quoted, anything else as its type. */
export const show = (value: unknown): string => {
	if (typeof value === 'string') {
		return JSON.stringify(value);
	}
	return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
};

/** the items of a non-empty array of strings that all pass `check`, or what is wrong with it. */
export const checkList = (
	field: string,
	value: unknown,
	check: (item: string) => boolean,
	expected: string,
): readonly string[] | Problem => {
	if (!Array.isArray(value)) {
		return new Problem(`${field} must be an array, got ${show(value)}`);
	}
	if (value.length === 0) {
		return new Problem(`${field} must not be empty`);
	}
	for (const item of value) {
		if (typeof item !== 'string' || !check(item)) {
			return new Problem(`${field} ${show(item)} is not ${expected}`);
		}
	}
	return value as readonly string[];
};

/** `value` if it is one of `allowed`, or what is wrong with it. */
export const checkOneOf = <T extends string>(
	field: string,
	value: unknown,
	allowed: readonly T[],
): T | Problem => {
	if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) {
		return value as T;
	}
	return new Problem(`${field} ${show(value)} is not one of ${allowed.map(show).join(', ')}`);
};

/** sorted (by UTF-16 code units, like Array#sort) and without repeats. */
export const sortUnique = (values: readonly string[]): string[] => {
	return [...new Set(values)].sort();
};
