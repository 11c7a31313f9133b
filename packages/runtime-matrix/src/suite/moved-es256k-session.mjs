// a session moved from @atproto/oauth-client-node with its ES256K DPoP key, as `fromNodeSavedSession`
// makes it: what the ES256K tests of the server lanes and of the facade's workers restore.

/** the DID the moved session is stored under. */
export const MOVED_DID = 'did:plc:moved';

/** the stored session, made with the facade's `fromNodeSavedSession`; its token is fresh for an hour. */
export const movedEs256kSession = (fromNodeSavedSession) =>
	fromNodeSavedSession({
		// made by node:crypto for these tests (Bun's crypto cannot make one: it has no secp256k1)
		dpopJwk: {
			kty: 'EC',
			crv: 'secp256k1',
			x: 'OsfzOvH9p0jiGZikkTOhp4zDqRhK2yZy_qDhynUP4x8',
			y: 'oqqEgtl2eSAagRF0a-sAnPQjdmNwFkQ8LxwSOiTy-6o',
			d: 'CK2-WN88EaQG8l7chaVNeehA_2xytZA8OggPlUa_DBk',
		},
		authMethod: { method: 'private_key_jwt', kid: 'main' },
		tokenSet: {
			iss: 'https://as.example',
			sub: MOVED_DID,
			aud: 'https://pds.example/',
			scope: 'atproto',
			access_token: 'at',
			refresh_token: 'rt',
			token_type: 'DPoP',
			expires_at: new Date(Date.now() + 3_600_000).toISOString(),
		},
	});
