/**
 * Test helper: a test CA made by code (root → intermediate → leaf, RSA with WebCrypto,
 * certificates built with @peculiar/asn1-x509) and signed tokens, for the rules the shared cases
 * cannot reach from TypeScript (their keys stay in Rust): a token whose `eat_nonce` holds a binding
 * this test chose, and certificate shapes the Rust test CA does not make.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

import { b64Std, b64u } from './encoding.js';

/** One certificate's key pair and DER. */
export interface Issued {
  readonly keys: CryptoKeyPair;
  readonly der: Uint8Array;
  readonly subject: string;
}

/** How a test certificate deviates from a well-formed one. */
export interface CertOptions {
  readonly ca?: boolean;
  /** `null`: no basicConstraints at all. */
  readonly basicConstraints?: 'once' | 'twice' | null;
  readonly keyUsage?: number | null;
  readonly extra?: readonly Extension[];
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly bits?: number;
  readonly hash?: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
}

const SIGNATURE_OIDS = {
  'SHA-1': '1.2.840.113549.1.1.5',
  'SHA-256': '1.2.840.113549.1.1.11',
  'SHA-384': '1.2.840.113549.1.1.12',
  'SHA-512': '1.2.840.113549.1.1.13',
} as const;

/** A fresh RSA key pair. */
export function rsaKeys(bits = 2048): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
}

const keyCache = new Map<string, Promise<CryptoKeyPair>>();

/** One key pair per subject and size, reused across chains: RSA key generation is slow. */
function keysFor(subject: string, bits: number): Promise<CryptoKeyPair> {
  const id = `${subject}/${bits}`;
  const keys = keyCache.get(id) ?? rsaKeys(bits);
  keyCache.set(id, keys);
  return keys;
}

/** An extension with a DER value. */
export function extension(oid: string, critical: boolean, value: Uint8Array): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(value) });
}

/** Issues a certificate for `subject` (self-signed when `issuer` is absent). */
export async function issue(subject: string, issuer: Issued | null, options: CertOptions = {}): Promise<Issued> {
  const keys = await keysFor(subject, options.bits ?? 2048);
  const signer = issuer?.keys.privateKey ?? keys.privateKey;
  const hash = options.hash ?? 'SHA-256';
  const algorithm = new AlgorithmIdentifier({ algorithm: SIGNATURE_OIDS[hash], parameters: null });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array([1]).buffer,
    signature: algorithm,
    issuer: name(issuer?.subject ?? subject),
    validity: new Validity({ notBefore: new Date((options.notBefore ?? 1_700_000_000) * 1000), notAfter: new Date((options.notAfter ?? 2_000_000_000) * 1000) }),
    subject: name(subject),
    subjectPublicKeyInfo: AsnConvert.parse(await crypto.subtle.exportKey('spki', keys.publicKey), SubjectPublicKeyInfo),
    extensions: new Extensions(extensions(options)),
  });
  const tbsDer = AsnConvert.serialize(tbs);
  const signature = await crypto.subtle.sign({ name: 'RSASSA-PKCS1-v1_5', hash }, await signingKey(signer, hash), tbsDer);
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: algorithm, signatureValue: signature });
  return { keys, der: new Uint8Array(AsnConvert.serialize(cert)), subject };
}

function extensions(options: CertOptions): Extension[] {
  const out: Extension[] = [];
  const bc = extension(id_ce_basicConstraints, true, new Uint8Array(AsnConvert.serialize(new BasicConstraints({ cA: options.ca ?? false }))));
  const copies = options.basicConstraints === undefined ? 1 : options.basicConstraints === null ? 0 : options.basicConstraints === 'twice' ? 2 : 1;
  for (let i = 0; i < copies; i++) out.push(bc);
  const ku = options.keyUsage === undefined ? (options.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : null) : options.keyUsage;
  if (ku !== null) out.push(extension(id_ce_keyUsage, true, new Uint8Array(AsnConvert.serialize(new KeyUsage(ku)))));
  return [...out, ...(options.extra ?? [])];
}

/** Re-imports a private key for another hash (WebCrypto binds the hash to the key). */
async function signingKey(key: CryptoKey, hash: string): Promise<CryptoKey> {
  const jwk = await crypto.subtle.exportKey('jwk', key);
  const { alg: _alg, ...rest } = jwk;
  return crypto.subtle.importKey('jwk', rest, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']);
}

function name(cn: string): Name {
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: cn }) })])]);
}

/** PEM of a certificate. */
export function pem(der: Uint8Array): string {
  const body = b64Std(der).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}

/** A chain from a fresh root. */
export interface Chain {
  readonly root: Issued;
  readonly intermediate: Issued;
  readonly leaf: Issued;
}

/** A well-formed chain, with options for the intermediate and the leaf. */
export async function chain(intermediate: CertOptions = {}, leaf: CertOptions = {}): Promise<Chain> {
  const root = await issue('Test Root', null, { ca: true });
  const inter = await issue('Test Intermediate', root, { ca: true, ...intermediate });
  return { root, intermediate: inter, leaf: await issue('Test Leaf', inter, leaf) };
}

/** A signed RS256 token with `x5c` [leaf, intermediate, root]; a string `claims` is the exact JSON text. */
export async function mint(c: Chain, claims: unknown, x5cRoot: Uint8Array = c.root.der): Promise<string> {
  const header = { alg: 'RS256', typ: 'JWT', x5c: [c.leaf.der, c.intermediate.der, x5cRoot].map(b64Std) };
  const text = (v: unknown): string => b64u(new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v)));
  const input = `${text(header)}.${text(claims)}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', c.leaf.keys.privateKey, new TextEncoder().encode(input));
  return `${input}.${b64u(new Uint8Array(signature))}`;
}

/** Claims that pass the policy {@link TEST_POLICY} at {@link NOW}. */
export function goodClaims(eatNonce: string | readonly string[]): Record<string, unknown> {
  return {
    iss: 'https://confidentialcomputing.googleapis.com',
    aud: 'aileron-test',
    iat: NOW - 10,
    nbf: NOW - 10,
    exp: NOW + 3590,
    eat_nonce: eatNonce,
    swname: 'CONFIDENTIAL_SPACE',
    secboot: true,
    dbgstat: 'disabled-since-boot',
    hwmodel: 'GCP_INTEL_TDX',
    submods: {
      container: { image_digest: `sha256:${'a'.repeat(64)}`, env: {} },
      gce: { project_id: 'test-project' },
      confidential_space: { support_attributes: ['STABLE'] },
    },
  };
}

/** The verification time of minted tokens. */
export const NOW = 1_800_000_000;

/** The policy minted tokens satisfy. */
export const TEST_POLICY = {
  audience: 'aileron-test',
  image_digests: [`sha256:${'a'.repeat(64)}`],
  project_ids: ['test-project'],
  support_attributes: ['STABLE'],
};
