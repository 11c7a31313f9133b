/** one timed step of a journey. */
export interface JourneyStep {
	/** what was done. */
	name: string;
	/** how long it took, in milliseconds. */
	ms: number;
	/** what it showed (a URL, a handle, a status). */
	detail: string;
}

/** runs steps one after the other, timing each and printing a line per step. */
export interface StepRecorder {
	/** the steps done so far. */
	readonly steps: JourneyStep[];
	/** runs `fn`; its `detail` (or the string it returns) goes on the step's line. */
	run<T>(name: string, fn: () => Promise<T>, detail?: (result: T) => string): Promise<T>;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** a step recorder that prints `  ✓ <name> (<time>)  <detail>`, or `  ✗ …` and rethrows. */
export const createStepRecorder = (log: (line: string) => void = () => {}): StepRecorder => {
	const steps: JourneyStep[] = [];
	return {
		steps,
		async run(name, fn, detail) {
			const started = performance.now();
			try {
				const result = await fn();
				const ms = Math.round(performance.now() - started);
				const text = detail?.(result) ?? (typeof result === 'string' ? result : '');
				steps.push({ name, ms, detail: text });
				log(`  ✓ ${name} (${seconds(ms)})${text === '' ? '' : `  ${text}`}`);
				return result;
			} catch (error) {
				const ms = Math.round(performance.now() - started);
				log(`  ✗ ${name} (${seconds(ms)})  ${error instanceof Error ? error.message : String(error)}`);
				throw error;
			}
		},
	};
};
