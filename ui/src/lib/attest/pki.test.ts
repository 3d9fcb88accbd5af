import { describe, expect, it } from 'vitest';

import { id_ce_extKeyUsage } from '@peculiar/asn1-x509';

import { b64u } from './encoding.js';
import { googleTrustAnchor } from './google-root.js';
import { parsePolicy } from './policy.js';
import { AnchorError, bitLength, GOOGLE_ROOT_SHA256, trustAnchorFromPem } from './pki.js';
import { loadSharedCases } from './shared-cases.js';
import { type CertOptions, chain, extension, goodClaims, mint, NOW, pem, TEST_POLICY } from './testkit.js';
import { verify } from './verify.js';

/** The check a minted token with this chain shape fails at {@link NOW}, or 'accept'. */
async function checkOf(intermediate: CertOptions, leaf: CertOptions, at = NOW): Promise<string> {
  const c = await chain(intermediate, leaf);
  const token = await mint(c, goodClaims('nonce-0123456789'));
  const verdict = await verify(token, parsePolicy(TEST_POLICY), await trustAnchorFromPem(pem(c.root.der)), ['nonce-0123456789'], at);
  return verdict.ok ? 'accept' : verdict.check;
}

// DER of an empty SEQUENCE / of an EKU list: valid values for a made-up or known extension.
const EMPTY_SEQUENCE = new Uint8Array([0x30, 0x00]);
const EKU_SERVER_AUTH = new Uint8Array([0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]);

describe('trust anchors', () => {
  it("load Google's root under its pin", async () => {
    expect((await googleTrustAnchor()).fingerprint).toBe(GOOGLE_ROOT_SHA256);
  });

  it('refuse a wrong pin, garbage and a PEM block that is not a certificate', async () => {
    const doc = loadSharedCases();
    const pemText = doc.roots['google'] ?? '';
    await expect(trustAnchorFromPem(pemText, '00'.repeat(32))).rejects.toThrow(AnchorError);
    await expect(trustAnchorFromPem('hello')).rejects.toThrow(AnchorError);
    await expect(trustAnchorFromPem('-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n')).rejects.toThrow(AnchorError);
    await expect(trustAnchorFromPem(pemText.replace(/CERTIFICATE/g, 'PUBLIC KEY'))).rejects.toThrow(AnchorError);
  });

  it('count modulus bits ignoring leading zeros', () => {
    expect(bitLength(new Uint8Array([0, 0x80, 0]))).toBe(16);
    expect(bitLength(new Uint8Array([0x01, 0xff]))).toBe(9);
    expect(bitLength(new Uint8Array([0, 0]))).toBe(0);
  });
});

describe('the chain, on certificates this test makes', () => {
  it('accepts a well-formed chain (positive control), also signed with SHA-384 and SHA-512', async () => {
    expect(await checkOf({}, {})).toBe('accept');
    expect(await checkOf({ hash: 'SHA-512' }, { hash: 'SHA-384' })).toBe('accept');
  });

  it('refuses a certificate signed with SHA-1', async () => {
    expect(await checkOf({}, { hash: 'SHA-1' })).toBe('chain');
  });

  it('refuses an intermediate whose keyUsage does not allow signing certificates', async () => {
    expect(await checkOf({ keyUsage: 0x80 }, {})).toBe('chain');
  });

  it('accepts an intermediate without keyUsage', async () => {
    expect(await checkOf({ keyUsage: null }, {})).toBe('accept');
  });

  it('refuses an intermediate without basicConstraints or with two', async () => {
    expect(await checkOf({ basicConstraints: null }, {})).toBe('chain');
    expect(await checkOf({ basicConstraints: 'twice' }, {})).toBe('chain');
  });

  it('refuses a leaf that is a CA', async () => {
    expect(await checkOf({}, { ca: true })).toBe('chain');
  });

  it('refuses an unknown critical extension, and accepts a known one or a non-critical unknown one', async () => {
    expect(await checkOf({}, { extra: [extension('1.3.6.1.4.1.99999.1', true, EMPTY_SEQUENCE)] })).toBe('chain');
    expect(await checkOf({ extra: [extension('1.3.6.1.4.1.99999.1', true, EMPTY_SEQUENCE)] }, {})).toBe('chain');
    expect(await checkOf({}, { extra: [extension('1.3.6.1.4.1.99999.1', false, EMPTY_SEQUENCE)] })).toBe('accept');
    expect(await checkOf({}, { extra: [extension(id_ce_extKeyUsage, true, EKU_SERVER_AUTH)] })).toBe('accept');
  });

  it('refuses an intermediate key under 2048 bits, which ring will not verify with', async () => {
    expect(await checkOf({ bits: 1024 }, {})).toBe('chain');
  });

  it('checks the key size (key) before the validity windows (chain)', async () => {
    expect(await checkOf({}, { bits: 1024, notAfter: NOW - 1 })).toBe('key');
    expect(await checkOf({}, { notAfter: NOW - 1 })).toBe('chain');
  });

  it('counts validity bounds as inclusive', async () => {
    expect(await checkOf({}, { notBefore: NOW, notAfter: NOW })).toBe('accept');
    expect(await checkOf({ notBefore: NOW + 1 }, {})).toBe('chain');
  });

  it('refuses a root in x5c that is not byte-identical to the pinned one, even when the chain verifies', async () => {
    const c = await chain();
    const pinned = await trustAnchorFromPem(pem(c.root.der));
    const decide = async (x5cRoot: Uint8Array): Promise<string> => {
      const verdict = await verify(await mint(c, goodClaims('n-0123456789'), x5cRoot), parsePolicy(TEST_POLICY), pinned, [], NOW);
      return verdict.ok ? 'accept' : verdict.check;
    };
    expect(await decide(c.root.der)).toBe('accept');
    expect(await decide(c.intermediate.der)).toBe('chain');
  });

  it('refuses an x5c entry that is not canonical standard base64', async () => {
    const c = await chain();
    const token = await mint(c, goodClaims('nonce-0123456789'));
    const [h, rest] = [token.slice(0, token.indexOf('.')), token.slice(token.indexOf('.'))];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { x5c: string[] };
    header.x5c[0] = header.x5c[0]?.replace(/=+$/, '') ?? '';
    const altered = `${b64u(new TextEncoder().encode(JSON.stringify(header)))}${rest}`;
    const verdict = await verify(altered, parsePolicy(TEST_POLICY), await trustAnchorFromPem(pem(c.root.der)), [], NOW);
    expect(verdict.ok ? 'accept' : verdict.check).toBe('chain');
  });
});
