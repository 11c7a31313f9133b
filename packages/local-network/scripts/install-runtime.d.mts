// types for install-runtime.mjs, which stays plain JavaScript: it runs before anything is built.

/** the runtime folder. */
export declare const runtimeDir: string;
/** where the headless Chromium is unpacked. */
export declare const chromiumDir: string;
/** the install marker's path. */
export declare const markerPath: string;
/** the hash the marker must carry: the lockfile plus the install steps' version. */
export declare const expectedLockHash: () => string;
/** the marker, or undefined. */
export declare const readMarker: () =>
	| { lockHash: string; node: { path: string; version: string }; chromium?: { path: string } }
	| undefined;
/** whether the runtime is installed for this lockfile, with its Node and its browser in place. */
export declare const isRuntimeInstalled: (marker?: ReturnType<typeof readMarker>) => boolean;
/** installs the runtime unless it is up to date; returns the Node that runs the PDS and the browser. */
export declare const installRuntime: (options?: { force?: boolean; log?: (line: string) => void }) => {
	path: string;
	version: string;
	chromiumPath: string;
};
