/**
 * names for the key algorithms (and, for EC keys, curves) a PKCS#8 key is likely to name, by
 * dotted OID.
 */
const OID_NAMES: ReadonlyMap<string, string> = new Map([
	['1.2.840.113549.1.1.1', 'RSA'],
	['1.2.840.113549.1.1.10', 'RSA-PSS'],
	['1.2.840.10045.2.1', 'EC'],
	['1.2.840.10040.4.1', 'DSA'],
	['1.2.840.113549.1.3.1', 'DH'],
	['1.3.101.110', 'X25519'],
	['1.3.101.111', 'X448'],
	['1.3.101.112', 'Ed25519'],
	['1.3.101.113', 'Ed448'],
	['1.2.840.10045.3.1.7', 'P-256'],
	['1.3.132.0.34', 'P-384'],
	['1.3.132.0.35', 'P-521'],
	['1.3.132.0.10', 'secp256k1'],
]);

/** one DER element at `offset`: its tag and where its content starts and ends, or undefined. */
const readElement = (der: Uint8Array, offset: number) => {
	const tag = der[offset];
	let length = der[offset + 1];
	let start = offset + 2;
	if (tag === undefined || length === undefined) return undefined;
	if (length > 0x80 && length <= 0x84) {
		// long form: the low bits say how many length bytes follow
		const count = length - 0x80;
		length = 0;
		for (let i = 0; i < count; i++) length = length * 256 + (der[start + i] ?? Number.NaN);
		start += count;
	} else if (length >= 0x80) {
		return undefined;
	}
	const end = start + length;
	return Number.isNaN(end) || end > der.length ? undefined : { tag, start, end };
};

/** an OID's content bytes in dotted form (X.690 §8.19). */
const dottedOid = (bytes: Uint8Array): string => {
	const parts: number[] = [];
	let value = 0;
	for (const byte of bytes) {
		value = value * 128 + (byte & 0x7f);
		if (byte < 0x80) {
			parts.push(value);
			value = 0;
		}
	}
	// the first number packs the first two arcs: 40 * arc1 + arc2 (arc1 is 0, 1 or 2)
	const first = parts.shift() ?? 0;
	const arc = Math.min(Math.floor(first / 40), 2);
	return [arc, first - arc * 40, ...parts].join('.');
};

/**
 * the key algorithm a PKCS#8 `PrivateKeyInfo` names (RFC 5208 §5: SEQUENCE { version INTEGER,
 * AlgorithmIdentifier SEQUENCE { OID, parameters }, ... }), with the curve of an EC key: "RSA",
 * "EC P-256", "EC secp256k1", "Ed25519", or "OID 1.2.3" for one without a name here; undefined
 * when the bytes do not start that way. reads the algorithm identifier only, never the key.
 */
export const pkcs8AlgorithmOf = (der: Uint8Array): string | undefined => {
	const info = readElement(der, 0);
	if (info?.tag !== 0x30) return undefined;
	const version = readElement(der, info.start);
	if (version?.tag !== 0x02) return undefined;
	const identifier = readElement(der, version.end);
	if (identifier?.tag !== 0x30) return undefined;
	const oid = readElement(der, identifier.start);
	if (oid?.tag !== 0x06 || oid.end > identifier.end) return undefined;

	const dotted = dottedOid(der.subarray(oid.start, oid.end));
	const name = OID_NAMES.get(dotted) ?? `OID ${dotted}`;
	if (name !== 'EC') return name;
	const curve = readElement(der, oid.end);
	if (curve?.tag !== 0x06 || curve.end > identifier.end) return 'EC with explicit curve parameters';
	const curveOid = dottedOid(der.subarray(curve.start, curve.end));
	return `EC ${OID_NAMES.get(curveOid) ?? `curve ${curveOid}`}`;
};
