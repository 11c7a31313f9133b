/**
 * `text` as a trace carries it: at most `max` UTF-16 units, without half of a surrogate pair at
 * the cut (an exporter encoding to UTF-8 would replace it, or refuse the attribute). what a user
 * typed or an app asked for can be any length, and a subscriber may copy it into every span.
 */
export const tracedText = (text: string, max: number): string => {
	if (text.length <= max) return text;
	const cut = text.slice(0, max);
	const last = cut.charCodeAt(max - 1);
	return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
};
