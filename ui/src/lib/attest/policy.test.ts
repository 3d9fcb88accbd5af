import { describe, expect, it } from 'vitest';

import { DEFAULT_HWMODELS, GOOGLE_ISSUER, LOCAL_ISSUER, parsePolicy, PolicyError } from './policy.js';

const DIGEST = 'sha256:e2e5e3672f416ac9ca71aa639abf86db0b713729a48c125a925af6c808b20b5d';
const minimal = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ audience: 'aud', image_digests: [DIGEST], ...extra });

/** The key a policy is refused for, or 'accepted'. */
const refusedKey = (input: unknown): string | null => {
  try {
    parsePolicy(input);
    return 'accepted';
  } catch (e) {
    if (e instanceof PolicyError) return e.key;
    throw e;
  }
};

describe('parsePolicy', () => {
  it('applies the documented defaults', () => {
    const p = parsePolicy(minimal());
    expect(p.issuer).toBe(GOOGLE_ISSUER);
    expect(p.hwmodels).toEqual(DEFAULT_HWMODELS);
    expect(p.leeway_seconds).toBe(60);
    expect(p.allow_debug).toBe(false);
    expect(p.allow_dangerous_settings).toBe(false);
    expect(p.support_attributes).toEqual([]);
    expect(p.project_ids).toBeNull();
    expect(Object.isFrozen(p) && Object.isFrozen(p.image_digests)).toBe(true);
  });

  it('reads a JSON text and the local issuer', () => {
    const p = parsePolicy(JSON.stringify(minimal({ issuer: LOCAL_ISSUER, hwmodels: ['LOCAL_INSECURE'], allow_debug: true, leeway_seconds: 3600 })));
    expect([p.issuer, p.hwmodels, p.allow_debug, p.leeway_seconds]).toEqual([LOCAL_ISSUER, ['LOCAL_INSECURE'], true, 3600]);
  });

  it('refuses an unknown key', () => {
    expect(refusedKey(minimal({ allow_debugg: true }))).toBe('allow_debugg');
  });

  it.each([
    ['a missing audience', { image_digests: [DIGEST] }, 'audience'],
    ['a blank audience (Rust trims U+0085, JavaScript does not)', minimal({ audience: ' \u0085\u3000' }), 'audience'],
    ['missing image_digests', { audience: 'a' }, 'image_digests'],
    ['no image digest', minimal({ image_digests: [] }), 'image_digests'],
    ['an uppercase digest', minimal({ image_digests: [DIGEST.toUpperCase()] }), 'image_digests'],
    ['a short digest', minimal({ image_digests: ['sha256:abc'] }), 'image_digests'],
    ['an empty project list', minimal({ project_ids: [] }), 'project_ids'],
    ['a blank project id', minimal({ project_ids: ['p', ' '] }), 'project_ids'],
    ['no hardware model', minimal({ hwmodels: [] }), 'hwmodels'],
    ['a leeway over an hour', minimal({ leeway_seconds: 3601 }), 'leeway_seconds'],
    ['a negative leeway', minimal({ leeway_seconds: -1 }), 'leeway_seconds'],
    ['a fractional leeway', minimal({ leeway_seconds: 1.5 }), 'leeway_seconds'],
    ['a leeway as a string', minimal({ leeway_seconds: '60' }), 'leeway_seconds'],
    ['another issuer', minimal({ issuer: 'https://evil.example' }), 'issuer'],
    ['allow_debug as a string', minimal({ allow_debug: 'yes' }), 'allow_debug'],
    ['allow_dangerous_settings as a number', minimal({ allow_dangerous_settings: 1 }), 'allow_dangerous_settings'],
    ['a support attribute that is not a string', minimal({ support_attributes: ['STABLE', 1] }), 'support_attributes'],
    ['a null optional key', minimal({ project_ids: null }), 'project_ids'],
  ])('refuses %s', (_name, input, key) => {
    expect(refusedKey(input)).toBe(key);
  });

  it('refuses what is not a JSON object', () => {
    for (const input of [null, [], 'not json', '[]', 42, new Date(), minimal({ audience: undefined })]) {
      expect(refusedKey(input)).not.toBe('accepted');
    }
  });

  it('refuses in a JSON text what only a text can show: duplicate keys and 60.0', () => {
    const text = JSON.stringify(minimal());
    expect(refusedKey(text.replace('{', '{"audience":"other",'))).toBeNull();
    expect(refusedKey(text.replace('}', ',"leeway_seconds":60.0}'))).toBe('leeway_seconds');
    expect(refusedKey(text.replace('}', ',"leeway_seconds":6e1}'))).toBe('leeway_seconds');
    expect(parsePolicy(text.replace('}', ',"leeway_seconds":0}')).leeway_seconds).toBe(0);
  });
});
