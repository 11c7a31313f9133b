/**
 * a service the tests need is missing and this run could not (or was told not to) install it.
 * the message is one line: what is missing and the command that installs it.
 */
export class ServiceMissingError extends Error {
	name = 'ServiceMissingError';
	/** stable, for code that tells this failure from others. */
	code = 'SERVICE_MISSING';

	/**
	 * @param {string} service what is missing (`redis-server`, `local network runtime`)
	 * @param {string} message one line: what is missing and how to install it
	 */
	constructor(service, message) {
		super(message);
		/** what is missing. */
		this.service = service;
	}
}
