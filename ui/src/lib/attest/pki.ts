/**
 * PKI tokens: the `x5c` chain (leaf, intermediate[, root]) checked against a pinned root, as the
 * Rust verifier does (attest/src/pki.rs) with `x509-parser` and `ring`.
 *
 * Plain X.509, no TLS path building (Google's intermediate carries EKU 2.23.133.8.1, which a TLS
 * verifier refuses): each certificate signed by the next with RSA PKCS#1 v1.5 and SHA-256/384/512,
 * the intermediate a CA allowed to sign certificates, no unknown critical extension, the leaf not a
 * CA, an RSA leaf key of at least 2048 bits, every certificate valid at the verification time. A
 * root inside the token is never a trust anchor: it must be byte-identical to the pinned one.
 *
 * Certificates are parsed with `@peculiar/asn1-x509` (and `asn1js` for the exact bytes of names);
 * signatures are verified with WebCrypto.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { BasicConstraints, Certificate, id_ce_basicConstraints, id_ce_keyUsage } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';

import { fail } from './checks.js';
import { b64Std, fromB64Std, toHex } from './encoding.js';

/** RSA keys below this size are refused (exact bit length). */
export const MIN_RSA_BITS = 2048;
/** `ring`'s `RSA_PKCS1_2048_8192_*`: the largest modulus it verifies with. */
const MAX_RSA_BITS = 8192;
/** SHA-256 of the DER of Google's Confidential Space Root CA. */
export const GOOGLE_ROOT_SHA256 = '148b293821bb0c6a317f413c8ba475814091cb22d49b9e3c94198db8e8f86c39';

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.11': 'SHA-256',
  '1.2.840.113549.1.1.12': 'SHA-384',
  '1.2.840.113549.1.1.13': 'SHA-512',
};

/**
 * Extensions `x509-parser` 0.18 parses. A critical extension outside this list is "unknown" to the
 * Rust verifier and refuses the chain; one inside it is accepted, so this list must match it.
 */
const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set([
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.18', // issuerAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.20', // cRLNumber
  '2.5.29.21', // reasonCode
  '2.5.29.24', // invalidityDate
  '2.5.29.28', // issuingDistributionPoint
  '2.5.29.30', // nameConstraints
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.32', // certificatePolicies
  '2.5.29.33', // policyMappings
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.36', // policyConstraints
  '2.5.29.37', // extKeyUsage
  '2.5.29.54', // inhibitAnyPolicy
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
  '1.3.6.1.5.5.7.1.11', // subjectInfoAccess
  '1.3.6.1.4.1.11129.2.4.2', // CT signed certificate timestamps
  '2.16.840.1.113730.1.1', // Netscape certificate type
  '2.16.840.1.113730.1.13', // Netscape comment
]);

/** What the chain checks need from one certificate. */
interface ParsedCert {
  readonly cert: Certificate;
  readonly tbs: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  /** Validity, Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** An RSA public key as `ring` reads it: big-endian modulus and exponent, no leading zeros. */
interface RsaKey {
  readonly n: Uint8Array;
  readonly e: Uint8Array;
}

/** A pinned root certificate. Make one with {@link trustAnchorFromPem} or {@link googleTrustAnchor}. */
export interface TrustAnchor {
  /** SHA-256 of the root's DER, lowercase hex. */
  readonly fingerprint: string;
  /** The DER as standard base64, as `x5c` carries it. */
  readonly b64: string;
  readonly parsed: ParsedCert;
}

/** Why a trust anchor could not be loaded. */
export class AnchorError extends Error {
  override name = 'AnchorError';
}

/** A root from PEM (the first block, which must be a `CERTIFICATE`), optionally pinned by SHA-256. */
export async function trustAnchorFromPem(pem: string, pinSha256Hex?: string): Promise<TrustAnchor> {
  const der = pemCertificate(pem);
  let parsed: ParsedCert;
  try {
    parsed = parseCert(der, 'root');
  } catch (e) {
    throw new AnchorError(`not an X.509 certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
  const fingerprint = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(der))));
  if (pinSha256Hex !== undefined && fingerprint !== pinSha256Hex.toLowerCase()) {
    throw new AnchorError(`certificate SHA-256 is ${fingerprint}, the pin is ${pinSha256Hex}`);
  }
  return Object.freeze({ fingerprint, b64: b64Std(der), parsed });
}

function pemCertificate(pem: string): Uint8Array {
  const block = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (block === null) throw new AnchorError('not a PEM certificate: no PEM block');
  if (block[1] !== 'CERTIFICATE') throw new AnchorError(`not a PEM certificate: block is \`${block[1]}\``);
  const der = fromB64Std((block[2] ?? '').replace(/[\s]/g, ''));
  if (der === null) throw new AnchorError('not a PEM certificate: bad base64');
  return der;
}

/** Verifies the `x5c` chain at `now` (Unix seconds); returns the leaf's RSA key. */
export async function verifyChain(anchor: TrustAnchor, x5c: readonly string[], now: bigint): Promise<RsaKey> {
  const [leafB64, intermediateB64, rootB64] = x5c;
  if (leafB64 === undefined || intermediateB64 === undefined) {
    fail('chain', '`x5c` holds a single certificate; a leaf and an intermediate are required');
  }
  if (rootB64 !== undefined && rootB64 !== anchor.b64) {
    fail('chain', "the token's root certificate is not the pinned root");
  }
  const leaf = parseCert(x5cDer(leafB64), 'leaf');
  const intermediate = parseCert(x5cDer(intermediateB64), 'intermediate');
  const root = anchor.parsed;
  await checkIssuedBy(intermediate, root, 'intermediate', 'the pinned root');
  checkCanSignCertificates(intermediate);
  await checkIssuedBy(leaf, intermediate, 'leaf', 'the intermediate');
  for (const [cert, name] of [[leaf, 'leaf'], [intermediate, 'intermediate']] as const) {
    checkCriticalExtensionsKnown(cert, name);
  }
  if (isCa(leaf)) fail('chain', 'the leaf certificate is a CA');
  const key = leafKey(leaf);
  for (const [cert, name] of [[leaf, 'leaf'], [intermediate, 'intermediate'], [root, 'root']] as const) {
    if (now < BigInt(cert.notBefore)) fail('chain', `the ${name} certificate is not valid before ${isoTime(cert.notBefore)}`);
    if (now > BigInt(cert.notAfter)) fail('chain', `the ${name} certificate expired at ${isoTime(cert.notAfter)}`);
  }
  return key;
}

/** RS256 over `signingInput` with the leaf key, as `ring`'s `RSA_PKCS1_2048_8192_SHA256`. */
export async function verifyRs256(key: RsaKey, signingInput: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return rsaVerify(key, 'SHA-256', signingInput, signature);
}

function x5cDer(entry: string): Uint8Array {
  return fromB64Std(entry) ?? fail('chain', 'an `x5c` entry is not standard base64');
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function parseCert(der: Uint8Array, name: string): ParsedCert {
  // asn1js reports how much it read: trailing bytes are refused, as x509-parser does.
  const outer = asn1js.fromBER(der);
  if (outer.offset === -1) fail('chain', `the ${name} certificate does not parse: ${outer.result.error}`);
  if (outer.offset !== der.byteLength) fail('chain', `trailing bytes after the ${name} certificate`);
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch (e) {
    return fail('chain', `the ${name} certificate does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  const fields = tbsFields(outer.result);
  const validity = cert.tbsCertificate.validity;
  return {
    cert,
    tbs: fields.tbs,
    issuer: fields.issuer,
    subject: fields.subject,
    notBefore: Math.floor(validity.notBefore.getTime().getTime() / 1000),
    notAfter: Math.floor(validity.notAfter.getTime().getTime() / 1000),
  };
}

/** The exact encodings of the TBS, its issuer and its subject (names are compared as bytes). */
function tbsFields(outer: asn1js.AsnType): { tbs: Uint8Array; issuer: Uint8Array; subject: Uint8Array } {
  const seq = outer instanceof asn1js.Sequence ? outer.valueBlock.value : [];
  const tbs = seq[0];
  const parts = tbs instanceof asn1js.Sequence ? tbs.valueBlock.value : [];
  // An explicit [0] version comes first when present.
  const first = parts[0]?.idBlock.tagClass === 3 ? 1 : 0;
  const issuer = parts[first + 2];
  const subject = parts[first + 4];
  if (tbs === undefined || issuer === undefined || subject === undefined) fail('chain', 'a certificate has no issuer or subject');
  return { tbs: tbs.valueBeforeDecodeView, issuer: issuer.valueBeforeDecodeView, subject: subject.valueBeforeDecodeView };
}

async function checkIssuedBy(cert: ParsedCert, issuer: ParsedCert, name: string, issuerName: string): Promise<void> {
  if (!equalBytes(cert.issuer, issuer.subject)) fail('chain', `the ${name} certificate is not issued by ${issuerName}`);
  const alg = cert.cert.signatureAlgorithm.algorithm;
  const hash = SIGNATURE_HASHES[alg];
  if (hash === undefined) fail('chain', `the ${name} certificate is signed with unsupported algorithm ${alg}`);
  // x509-parser hands ring the issuer's key bits whatever their algorithm says.
  const key = rsaKeyOf(issuer.cert);
  const ok = key !== null && (await rsaVerify(key, hash, cert.tbs, new Uint8Array(cert.cert.signatureValue)));
  if (!ok) fail('chain', `the ${name} certificate's signature does not verify with ${issuerName}'s key`);
}

function checkCanSignCertificates(intermediate: ParsedCert): void {
  const bc = uniqueExtension(intermediate, id_ce_basicConstraints, 'basicConstraints');
  if (bc === undefined || !basicConstraintsCa(bc)) fail('chain', 'the intermediate certificate is not a CA');
  const ku = uniqueExtension(intermediate, id_ce_keyUsage, 'keyUsage');
  if (ku !== undefined) {
    const first = keyUsageFirstByte(ku);
    if (first === null) fail('chain', "the intermediate's keyUsage does not parse");
    // keyCertSign is bit 5: 0x04 of the first byte.
    if ((first & 0x04) === 0) fail('chain', "the intermediate's keyUsage does not allow signing certificates");
  }
}

/** The one extension with `oid` (a duplicate refuses the chain, as x509-parser's getters do). */
function uniqueExtension(cert: ParsedCert, oid: string, name: string): Uint8Array | undefined {
  const found = (cert.cert.tbsCertificate.extensions ?? []).filter((e) => e.extnID === oid);
  if (found.length > 1) fail('chain', `the intermediate has two ${name} extensions`);
  const ext = found[0];
  return ext === undefined ? undefined : new Uint8Array(ext.extnValue.buffer);
}

function basicConstraintsCa(value: Uint8Array): boolean {
  try {
    return AsnConvert.parse(value, BasicConstraints).cA;
  } catch {
    // x509-parser keeps an unparseable extension as a parse error: not a CA.
    return false;
  }
}

function keyUsageFirstByte(value: Uint8Array): number | null {
  const parsed = asn1js.fromBER(value);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.BitString)) return null;
  return parsed.result.valueBlock.valueHexView[0] ?? 0;
}

function isCa(cert: ParsedCert): boolean {
  const found = (cert.cert.tbsCertificate.extensions ?? []).filter((e) => e.extnID === id_ce_basicConstraints);
  const ext = found[0];
  // x509-parser's is_ca: a duplicate or unparseable basicConstraints counts as "not a CA".
  return found.length === 1 && ext !== undefined && basicConstraintsCa(new Uint8Array(ext.extnValue.buffer));
}

function checkCriticalExtensionsKnown(cert: ParsedCert, name: string): void {
  const unknown = (cert.cert.tbsCertificate.extensions ?? []).find((e) => e.critical && !KNOWN_EXTENSIONS.has(e.extnID));
  if (unknown !== undefined) fail('chain', `the ${name} certificate has unknown critical extension ${unknown.extnID}`);
}

function leafKey(leaf: ParsedCert): RsaKey {
  const spki = leaf.cert.tbsCertificate.subjectPublicKeyInfo;
  if (spki.algorithm.algorithm !== RSA_ENCRYPTION) fail('key', 'the leaf key is not an RSA key');
  const key = rsaKeyOf(leaf.cert) ?? fail('key', "the leaf's RSA key does not parse");
  const bits = bitLength(key.n);
  if (bits < MIN_RSA_BITS) fail('key', `the leaf's RSA key has ${bits} bits, at least ${MIN_RSA_BITS} are required`);
  return key;
}

function rsaKeyOf(cert: Certificate): RsaKey | null {
  try {
    const key = AsnConvert.parse(cert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey, RSAPublicKey);
    return { n: stripZeros(new Uint8Array(key.modulus)), e: stripZeros(new Uint8Array(key.publicExponent)) };
  } catch {
    return null;
  }
}

/**
 * RSASSA-PKCS1-v1_5 with WebCrypto, under `ring`'s key rules first: a modulus of 2048 (rounded up
 * to whole bytes) to 8192 bits, odd; an odd exponent from 3 to 2^33-1; a signature exactly as long
 * as the modulus. WebCrypto alone would accept keys and signatures the Rust verifier refuses.
 */
async function rsaVerify(key: RsaKey, hash: string, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (!ringAcceptsKey(key) || signature.length !== key.n.length) return false;
  try {
    const imported = await crypto.subtle.importKey(
      'jwk',
      { kty: 'RSA', n: b64uOf(key.n), e: b64uOf(key.e), ext: true },
      { name: 'RSASSA-PKCS1-v1_5', hash },
      false,
      ['verify'],
    );
    return await crypto.subtle.verify('RSASSA-PKCS1-v1_5', imported, new Uint8Array(signature), new Uint8Array(data));
  } catch {
    return false;
  }
}

function ringAcceptsKey({ n, e }: RsaKey): boolean {
  const nOdd = ((n[n.length - 1] ?? 0) & 1) === 1;
  if (n.length * 8 < MIN_RSA_BITS || bitLength(n) > MAX_RSA_BITS || !nOdd) return false;
  if (e.length === 0 || e.length > 5) return false;
  const value = e.reduce((acc, b) => acc * 256n + BigInt(b), 0n);
  return value >= 3n && value <= (1n << 33n) - 1n && (value & 1n) === 1n;
}

/** Bits of a big-endian unsigned integer, ignoring leading zero bytes. */
export function bitLength(bytes: Uint8Array): number {
  const trimmed = stripZeros(bytes);
  const top = trimmed[0];
  return top === undefined ? 0 : (trimmed.length - 1) * 8 + (32 - Math.clz32(top));
}

function stripZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i += 1;
  return bytes.subarray(i);
}

function b64uOf(bytes: Uint8Array): string {
  return b64Std(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
