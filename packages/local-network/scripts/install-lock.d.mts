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
