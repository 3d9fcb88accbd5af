import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { checkAttestation, computeBinding, freshNonce, validNonce } from './attestation.js';
import { b64u } from './encoding.js';
import { parsePolicy } from './policy.js';
import { trustAnchorFromPem } from './pki.js';
import { loadSharedCases } from './shared-cases.js';
import { chain, goodClaims, mint, NOW, pem, TEST_POLICY } from './testkit.js';

const BOOT_ID = '00112233445566778899aabbccddeeff';
const HPKE = new Uint8Array(Array.from({ length: 32 }, (_, i) => i));
const TLS_SPKI_SHA256 = createHash('sha256').update('spki').digest('hex');
const MY_NONCE = 'nonce-0123456789';

/** The binding by the Rust SDK's recipe (sdk/src/wire.rs `binding`), with Node's own hash. */
function bindingIndependently(bootIdHex: string, hpke: Uint8Array, spkiHashHex: string): string {
  const digest = createHash('sha256')
    .update('aileron-enclave-binding-v1')
    .update(Buffer.from(bootIdHex, 'hex'))
    .update(hpke)
    .update(Buffer.from(spkiHashHex, 'hex'))
    .digest();
  return digest.toString('base64url');
}

const answer = (fields: Record<string, string> = {}): Record<string, string> => ({
  token: 'x.y.z',
  token_type: 'PKI',
  boot_id: BOOT_ID,
  hpke_public_key: b64u(HPKE),
  tls_spki_sha256: TLS_SPKI_SHA256,
  ...fields,
});

describe('the binding', () => {
  it('matches the vector computed outside this code (Python hashlib, by the Rust recipe)', async () => {
    const ones = await computeBinding(new Uint8Array(16).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3));
    expect(ones).toBe('ArUy5qHyvYDBkSTe_HpjW-gkB9DiGsdref8ATvFEqJU');
    const vector = await computeBinding(Buffer.from(BOOT_ID, 'hex'), HPKE, Buffer.from(TLS_SPKI_SHA256, 'hex'));
    expect(vector).toBe('5NDVlv2LwH0K6d1wk3V1RPalxOv7L1HEmFv5BUrikeg');
    expect(vector).toBe(bindingIndependently(BOOT_ID, HPKE, TLS_SPKI_SHA256));
  });

  it('is 43 characters and covers every input', async () => {
    const base = await computeBinding(new Uint8Array(16).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3));
    expect(base).toHaveLength(43);
    expect(await computeBinding(new Uint8Array(16).fill(9), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3))).not.toBe(base);
    expect(await computeBinding(new Uint8Array(16).fill(1), new Uint8Array(32).fill(9), new Uint8Array(32).fill(3))).not.toBe(base);
    expect(await computeBinding(new Uint8Array(16).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(9))).not.toBe(base);
  });
});

describe('nonces', () => {
  it('are fresh, 32 base64url characters, and acceptable to the enclave', () => {
    const a = freshNonce();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(validNonce(a)).toBe(true);
    expect(freshNonce()).not.toBe(a);
    expect(freshNonce((b) => b.fill(0))).toBe('A'.repeat(32));
  });

  it('are 10 to 74 printable ASCII characters', () => {
    expect(['0123456789', 'x'.repeat(74), ' ~'.repeat(5)].map(validNonce)).toEqual([true, true, true]);
    expect(['012345678', 'x'.repeat(75), '0123456789\n', '0123456789é', '\t123456789'].map(validNonce)).toEqual([false, false, false, false, false]);
  });
});

describe('checkAttestation', () => {
  const doc = loadSharedCases();
  const testCase = doc.cases.find((c) => c.name === 'a correct PKI token');
  if (testCase === undefined) throw new Error('the shared cases lack "a correct PKI token"');

  it('refuses (nonce) a valid token whose eat_nonce lacks the binding of the answer', async () => {
    const root = await trustAnchorFromPem(doc.roots[testCase.root] ?? '');
    const policy = parsePolicy(doc.policies[testCase.policy]);
    // Positive control: the same token, verified for the page's nonce alone, is accepted.
    const { verify } = await import('./verify.js');
    expect((await verify(testCase.token, policy, root, [MY_NONCE], testCase.at)).ok).toBe(true);
    const result = await checkAttestation(answer({ token: testCase.token }), policy, root, MY_NONCE, testCase.at);
    expect(result.ok ? 'accepted' : result.check).toBe('nonce');
    expect('hpkePublicKey' in result).toBe(false);
  });

  it('returns the HPKE key when the token binds it, and refuses any other key, boot or TLS hash', async () => {
    const c = await chain();
    const root = await trustAnchorFromPem(pem(c.root.der));
    const policy = parsePolicy(TEST_POLICY);
    const binding = bindingIndependently(BOOT_ID, HPKE, TLS_SPKI_SHA256);
    const token = await mint(c, goodClaims([MY_NONCE, binding]));
    const ok = await checkAttestation(answer({ token }), policy, root, MY_NONCE, NOW);
    expect(ok.ok && ok.hpkePublicKey).toEqual(HPKE);
    expect(ok.ok && ok.binding).toBe(binding);
    const otherKey = b64u(new Uint8Array(32).fill(7));
    for (const changed of [{ hpke_public_key: otherKey }, { boot_id: 'f'.repeat(32) }, { tls_spki_sha256: '0'.repeat(64) }] as Record<string, string>[]) {
      const refused = await checkAttestation(answer({ token, ...changed }), policy, root, MY_NONCE, NOW);
      expect(refused.ok ? 'accepted' : refused.check).toBe('nonce');
    }
    const replay = await checkAttestation(answer({ token }), policy, root, 'another-nonce-00', NOW);
    expect(replay.ok ? 'accepted' : replay.check).toBe('nonce');
  });

  it.each([
    ['not an object', 'answer'],
    ['an unknown field', { ...answer(), extra: 'x' }],
    ['a missing field', { token: 'x.y.z', boot_id: BOOT_ID, hpke_public_key: b64u(HPKE), tls_spki_sha256: TLS_SPKI_SHA256 }],
    ['a field that is not a string', { ...answer(), token_type: 1 }],
    ['an uppercase boot_id', answer({ boot_id: BOOT_ID.toUpperCase() })],
    ['a short boot_id', answer({ boot_id: BOOT_ID.slice(2) })],
    ['a 31-byte HPKE key', answer({ hpke_public_key: b64u(HPKE.subarray(1)) })],
    ['a padded HPKE key', answer({ hpke_public_key: `${b64u(HPKE)}=` })],
    ['a standard-base64 HPKE key', answer({ hpke_public_key: Buffer.from(new Uint8Array(32).fill(0xfb)).toString('base64').replace(/=+$/, '') })],
    ['an uppercase TLS hash', answer({ tls_spki_sha256: TLS_SPKI_SHA256.toUpperCase() })],
    ['a short TLS hash', answer({ tls_spki_sha256: TLS_SPKI_SHA256.slice(1) })],
  ])('refuses an answer with %s', async (_name, bad) => {
    const root = await trustAnchorFromPem(doc.roots['test'] ?? '');
    const result = await checkAttestation(bad, parsePolicy(doc.policies['test']), root, MY_NONCE, testCase.at);
    expect(result.ok ? 'accepted' : result.check).toBe('answer');
  });

  it("throws on the page's own invalid nonce rather than asking for it", async () => {
    const root = await trustAnchorFromPem(doc.roots['test'] ?? '');
    await expect(checkAttestation(answer(), parsePolicy(doc.policies['test']), root, 'short', testCase.at)).rejects.toThrow(RangeError);
  });
});
