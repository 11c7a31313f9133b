import { quoted } from './quoted.ts';

/**
 * what went wrong in a failed resolution, in words, read down `error`'s cause chain from the
 * errors of `@atcute/identity-resolver` (by name: another installed copy's count too), or
 * undefined when nothing there says. the message of an `IdentityResolutionError` ends with it:
 * "could not resolve did:plc:…" alone would leave the reader to tell an unknown DID from a
 * tombstoned one, or a directory that refused the request, by walking the `cause` chain.
 */
export const failureDetailOf = (error: unknown): string | undefined => {
	/** the DID whose document was being read, from the resolver's wrapping error. */
	let reading: string | undefined;
	for (let err = error, depth = 0; err instanceof Error && depth < 8; err = err.cause, depth++) {
		const { did, status } = err as { did?: unknown; status?: unknown };
		const named = typeof did === 'string' ? did : 'the DID';
		switch (err.name) {
			case 'DocumentNotFoundError':
				return `no DID document for ${named} (its server answered 404)`;
			case 'FailedDocumentResolutionError':
				reading = named;
				break;
			case 'UnsupportedDidMethodError':
				return `the resolver has no method for ${named}`;
			case 'DidNotFoundError':
				return 'no DID was found for the handle';
			case 'AmbiguousHandleError':
				return 'the handle names more than one DID (several did= TXT records)';
			case 'InvalidResolvedHandleError':
				// what the handle's DNS or host sent: cut and escaped before it reaches a log line
				return `the handle names ${typeof did === 'string' ? quoted(did) : 'a value'}, which is no atproto DID`;
		}
		if (err.name === 'FailedResponseError' && typeof status === 'number') {
			if (reading === undefined) return `a server answered ${status}`;
			// the PLC directory's answer for a DID that was deactivated for good (a tombstone)
			if (status === 410)
				return `the DID document of ${reading} is gone: its server answered 410 (a tombstoned or deactivated DID)`;
			return `the DID document of ${reading} could not be read: its server answered ${status}`;
		}
	}
	return undefined;
};
