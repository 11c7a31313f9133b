// types for install-lock.mjs, which stays plain JavaScript: it runs before anything is built.

/**
 * runs `fn` holding the install lock of `dir`, waiting while another process holds it; a lock
 * whose owner is gone is taken over.
 */
export declare const withInstallLock: <T>(
	dir: string,
	fn: () => T,
	options?: { log?: (line: string) => void; timeoutMs?: number },
) => T;

/** how old a lock may be before the pid it names is taken for someone else's, in milliseconds. */
export declare const LOCK_STALE_MS: number;

/** the variable an install's steps run with, naming the folder installed into. */
export declare const INSTALL_STEP_ENV: string;

/** the processes (other than this one) of an install into `dir`: their environment names it (Linux). */
export declare const installStepsIn: (dir: string) => { pid: number; command: string }[];
