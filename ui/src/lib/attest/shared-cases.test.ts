import { describe, expect, it } from 'vitest';

import { CHECKS } from './checks.js';
import { parsePolicy } from './policy.js';
import { type TrustAnchor, trustAnchorFromPem } from './pki.js';
import { loadSharedCases } from './shared-cases.js';
import { verify } from './verify.js';

const doc = loadSharedCases();
const anchors = new Map<string, Promise<TrustAnchor>>();
const anchor = (name: string): Promise<TrustAnchor> => {
  const pem = doc.roots[name];
  if (pem === undefined) throw new Error(`no root ${name}`);
  const loaded = anchors.get(name) ?? trustAnchorFromPem(pem);
  anchors.set(name, loaded);
  return loaded;
};

describe('the shared cases, decided as the Rust verifier decides them', () => {
  it.each(doc.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const policy = parsePolicy(doc.policies[c.policy]);
    const verdict = await verify(c.token, policy, await anchor(c.root), c.nonces, c.at);
    const decided = verdict.ok ? 'accept' : verdict.check;
    expect(decided, verdict.ok ? '' : verdict.detail).toBe(c.expect);
  });

  it('cover acceptance, both real Google tokens and every check', () => {
    const expected = new Set(doc.cases.map((c) => c.expect));
    expect(expected.has('accept')).toBe(true);
    for (const check of CHECKS) expect(expected.has(check), check).toBe(true);
    expect(doc.cases.filter((c) => c.root === 'google' && c.expect === 'accept')).toHaveLength(2);
  });
});
