import { randomDidPlc } from './internal/random.ts';

/** an account on the fake PDS. */
export interface Account {
	did: string;
	handle: string;
	/** the PDS its DID document points to; default the test server's PDS. */
	pdsEndpoint: string | undefined;
}

/** options for `server.createAccount`. */
export interface CreateAccountOptions {
	/** the handle, e.g. `alice.test`. */
	handle: string;
	/** the DID; default a new random `did:plc:`. */
	did?: string | undefined;
	/** the `#atproto_pds` endpoint of its DID document; default the test server's PDS. */
	pdsEndpoint?: string | undefined;
}

/** a dummy secp256k1 multikey: clients of OAuth never verify it. */
const DUMMY_MULTIKEY = 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF';

/** the accounts of the fake PDS, which the fake PLC directory serves DID documents for. */
export class AccountStore {
	readonly #byDid = new Map<string, Account>();

	/** creates an account; throws when the handle or DID is taken. */
	create(options: CreateAccountOptions): Account {
		const did = options.did ?? randomDidPlc();
		if (this.#byDid.has(did)) {
			throw new TypeError(`an account with DID ${did} exists`);
		}
		if (this.byHandle(options.handle) !== undefined) {
			throw new TypeError(`an account with handle ${options.handle} exists`);
		}
		const account: Account = { did, handle: options.handle, pdsEndpoint: options.pdsEndpoint };
		this.#byDid.set(did, account);
		return account;
	}

	/** the account of a DID. */
	get(did: string): Account | undefined {
		return this.#byDid.get(did);
	}

	/** the account holding a handle (case-insensitive). */
	byHandle(handle: string): Account | undefined {
		const wanted = handle.toLowerCase();
		for (const account of this.#byDid.values()) {
			if (account.handle.toLowerCase() === wanted) return account;
		}
		return undefined;
	}

	/** changes an account's handle or PDS endpoint; throws for an unknown DID. */
	update(did: string, patch: { handle?: string | undefined; pdsEndpoint?: string | undefined }): Account {
		const account = this.#byDid.get(did);
		if (account === undefined) {
			throw new TypeError(`no account with DID ${did}`);
		}
		if (patch.handle !== undefined) account.handle = patch.handle;
		if (patch.pdsEndpoint !== undefined) account.pdsEndpoint = patch.pdsEndpoint;
		return account;
	}

	/** removes an account: its DID document is gone from the directory. */
	delete(did: string): void {
		this.#byDid.delete(did);
	}
}

/** the DID document the fake PLC directory serves for an account. */
export const didDocument = (account: Account, pdsUrl: string): Record<string, unknown> => {
	return {
		'@context': [
			'https://www.w3.org/ns/did/v1',
			'https://w3id.org/security/multikey/v1',
			'https://w3id.org/security/suites/secp256k1-2019/v1',
		],
		id: account.did,
		alsoKnownAs: [`at://${account.handle}`],
		verificationMethod: [
			{
				id: `${account.did}#atproto`,
				type: 'Multikey',
				controller: account.did,
				publicKeyMultibase: DUMMY_MULTIKEY,
			},
		],
		service: [
			{
				id: '#atproto_pds',
				type: 'AtprotoPersonalDataServer',
				serviceEndpoint: account.pdsEndpoint ?? pdsUrl,
			},
		],
	};
};
