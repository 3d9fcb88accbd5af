import { beforeAll, describe, expect, it } from 'vitest';

import { parsePolicy, type Policy } from './policy.js';
import { type TrustAnchor, trustAnchorFromPem } from './pki.js';
import { type Chain, chain, goodClaims, mint, NOW, pem, TEST_POLICY } from './testkit.js';
import { verify } from './verify.js';

const NONCE = 'nonce-0123456789';
let c: Chain;
let root: TrustAnchor;
const policy = parsePolicy(TEST_POLICY);

beforeAll(async () => {
  c = await chain();
  root = await trustAnchorFromPem(pem(c.root.der));
});

type Claims = ReturnType<typeof goodClaims>;

/** The check a minted token with changed claims fails, or 'accept'. */
async function checkOf(change: (claims: Claims) => void, options: { policy?: Policy; at?: number; nonces?: string[] } = {}): Promise<string> {
  const claims = goodClaims(NONCE);
  change(claims);
  const verdict = await verify(await mint(c, claims), options.policy ?? policy, root, options.nonces ?? [NONCE], options.at ?? NOW);
  return verdict.ok ? 'accept' : verdict.check;
}

const container = (claims: Claims): Record<string, unknown> => (claims['submods'] as { container: Record<string, unknown> }).container;

describe('verify, on tokens this test signs', () => {
  it('accepts a good token and returns its typed and raw claims', async () => {
    const verdict = await verify(await mint(c, goodClaims(NONCE)), policy, root, [NONCE], NOW);
    expect(verdict.ok && verdict.claims.exp).toBe(BigInt(NOW + 3590));
    expect(verdict.ok && (verdict.rawClaims as { aud: string }).aud).toBe('aileron-test');
  });

  it('applies the leeway inclusively to exp, nbf and iat', async () => {
    const leeway = 60;
    expect(await checkOf((x) => (x['exp'] = NOW - leeway))).toBe('accept');
    expect(await checkOf((x) => (x['exp'] = NOW - leeway - 1))).toBe('expiry');
    expect(await checkOf((x) => (x['nbf'] = NOW + leeway))).toBe('accept');
    expect(await checkOf((x) => (x['nbf'] = NOW + leeway + 1))).toBe('not_before');
    expect(await checkOf((x) => (x['iat'] = NOW + leeway + 1))).toBe('issued_at');
  });

  it('compares exact 64-bit times, beyond what a double holds', async () => {
    // JSON.stringify cannot write 2^64-1 exactly: the claims are signed as text.
    const text = (name: string, value: string): string => JSON.stringify(goodClaims(NONCE)).replace(new RegExp(`"${name}":\\d+`), `"${name}":${value}`);
    const decide = async (claims: string): Promise<string> => {
      const verdict = await verify(await mint(c, claims), policy, root, [NONCE], NOW);
      return verdict.ok ? 'accept' : verdict.check;
    };
    expect(await decide(text('exp', '18446744073709551615'))).toBe('accept');
    expect(await decide(text('exp', '18446744073709551616'))).toBe('claims');
    expect(await decide(text('iat', '18446744073709551615'))).toBe('issued_at');
  });

  it('requires every nonce the caller names, from a string or an array', async () => {
    expect(await checkOf(() => undefined, { nonces: [] })).toBe('accept');
    expect(await checkOf((x) => (x['eat_nonce'] = ['other-nonce-1', NONCE]))).toBe('accept');
    expect(await checkOf((x) => (x['eat_nonce'] = [NONCE]), { nonces: [NONCE, 'second-nonce'] })).toBe('nonce');
  });

  it('accepts an audience array containing the audience', async () => {
    expect(await checkOf((x) => (x['aud'] = ['other', 'aileron-test']))).toBe('accept');
  });

  it('allows debug images only when the policy says so', async () => {
    expect(await checkOf((x) => (x['dbgstat'] = 'enabled'))).toBe('dbgstat');
    expect(await checkOf((x) => (x['dbgstat'] = 'enabled'), { policy: parsePolicy({ ...TEST_POLICY, allow_debug: true }) })).toBe('accept');
  });

  it('skips project_id when the policy names no project, and support_attributes when it needs none', async () => {
    const lax = parsePolicy({ audience: 'aileron-test', image_digests: TEST_POLICY.image_digests });
    expect(await checkOf((x) => delete (x['submods'] as Record<string, unknown>)['gce'], { policy: lax })).toBe('accept');
    expect(await checkOf((x) => delete (x['submods'] as Record<string, unknown>)['confidential_space'], { policy: lax })).toBe('accept');
    expect(await checkOf((x) => delete (x['submods'] as Record<string, unknown>)['confidential_space'])).toBe('support_attributes');
  });

  it.each([
    ['1', 'environment'],
    ['true', 'environment'],
    ['', 'accept'],
    ['0', 'accept'],
    [' FALSE ', 'accept'],
    ['\u0085false\u0085', 'accept'],
    ['\ufefffalse', 'environment'],
  ])('judges AILERON_DANGEROUS_X=%j as Rust does (%s)', async (value, expected) => {
    expect(await checkOf((x) => (container(x)['env'] = { AILERON_DANGEROUS_X: value }))).toBe(expected);
  });

  it('reads dangerous settings from env_override too, by a case-sensitive prefix, unless the policy allows them', async () => {
    expect(await checkOf((x) => (container(x)['env_override'] = { AILERON_DANGEROUS_X: '1' }))).toBe('environment');
    expect(await checkOf((x) => (container(x)['env'] = { aileron_dangerous_x: '1' }))).toBe('accept');
    const dev = parsePolicy({ ...TEST_POLICY, allow_dangerous_settings: true });
    expect(await checkOf((x) => (container(x)['env'] = { AILERON_DANGEROUS_X: '1' }), { policy: dev })).toBe('accept');
  });

  it('reports the first failing check when several fail', async () => {
    expect(
      await checkOf((x) => {
        x['swname'] = 'GCE';
        x['hwmodel'] = 'OTHER';
        x['iss'] = 'https://evil.example';
      }),
    ).toBe('issuer');
    expect(
      await checkOf((x) => {
        x['hwmodel'] = 'OTHER';
        x['secboot'] = false;
      }),
    ).toBe('secboot');
  });

  it('accepts submods written as arrays of fields, as the Rust verifier does', async () => {
    expect(
      await checkOf((x) => {
        x['submods'] = [[`sha256:${'a'.repeat(64)}`], ['test-project'], [['STABLE']]];
      }),
    ).toBe('accept');
  });

  it('refuses a verification time that is not whole seconds, without deciding', async () => {
    await expect(verify('a.b.c', policy, root, [], 1.5)).rejects.toThrow(RangeError);
    await expect(verify('a.b.c', policy, root, [], -1)).rejects.toThrow(RangeError);
  });
});
