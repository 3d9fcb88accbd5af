import { describe, expect, it } from 'vitest';

import { b64u, fromB64Std, fromB64u } from './encoding.js';
import { MAX_TOKEN_BYTES } from './jwt.js';
import { parsePolicy } from './policy.js';
import { type TrustAnchor, trustAnchorFromPem } from './pki.js';
import { loadSharedCases } from './shared-cases.js';
import { verify } from './verify.js';

const doc = loadSharedCases();
const policy = parsePolicy(doc.policies['test']);
let anchor: Promise<TrustAnchor> | undefined;
const testRoot = (): Promise<TrustAnchor> => (anchor ??= trustAnchorFromPem(doc.roots['test'] ?? ''));
const text = (s: string): string => b64u(new TextEncoder().encode(s));

/** A token from raw header and claims texts; its signature is `sig` (never valid). */
const token = (header: string, claims = '{}', signature = text('sig')): string => `${text(header)}.${text(claims)}.${signature}`;

/** The check a token fails, against the test root. */
const checkOf = async (t: string): Promise<string> => {
  const verdict = await verify(t, policy, await testRoot(), [], 1795959107);
  return verdict.ok ? 'accept' : verdict.check;
};

// A header that passes every header rule: with a kid and no x5c it goes on to fail `key`.
const KID = '{"alg":"RS256","typ":"JWT","kid":"k1"}';

describe('the JWS layer', () => {
  it('lets a well-formed kid header through to the key check', async () => {
    expect(await checkOf(token(KID))).toBe('key');
  });

  it.each([
    ['crit', '"crit":["exp"]'],
    ['jku', '"jku":"https://evil.example/jwks"'],
    ['x5u', '"x5u":"https://evil.example/c.pem"'],
    ['jwk', '"jwk":{}'],
    ['an unknown parameter', '"zip":"DEF"'],
  ])('refuses a %s header parameter', async (_name, extra) => {
    expect(await checkOf(token(`{"alg":"RS256","kid":"k",${extra}}`))).toBe('header');
  });

  it.each(['"none"', '"HS256"', '"RS384"', '"RS512"', '"PS256"', '"rs256"', '256', 'null', '["RS256"]'])('refuses alg %s', async (alg) => {
    expect(await checkOf(token(`{"alg":${alg},"kid":"k"}`))).toBe('algorithm');
  });

  it('refuses a missing alg', async () => {
    expect(await checkOf(token('{"kid":"k"}'))).toBe('algorithm');
  });

  it('checks parameters before alg, and alg before typ', async () => {
    expect(await checkOf(token('{"alg":"none","crit":[]}'))).toBe('header');
    expect(await checkOf(token('{"alg":"none","typ":"JOSE","kid":"k"}'))).toBe('algorithm');
  });

  it.each([
    ['a typ other than JWT', '{"alg":"RS256","typ":"JOSE","kid":"k"}'],
    ['a null typ', '{"alg":"RS256","typ":null,"kid":"k"}'],
    ['a kid that is not a string', '{"alg":"RS256","kid":7}'],
    ['x5c not an array', '{"alg":"RS256","x5c":"abc"}'],
    ['an empty x5c', '{"alg":"RS256","x5c":[]}'],
    ['four x5c entries', '{"alg":"RS256","x5c":["a","b","c","d"]}'],
    ['an x5c entry that is not a string', '{"alg":"RS256","x5c":["a",1]}'],
    ['neither x5c nor kid', '{"alg":"RS256","typ":"JWT"}'],
  ])('refuses %s (header)', async (_name, header) => {
    expect(await checkOf(token(header))).toBe('header');
  });

  it('refuses duplicate keys in the header and in the claims (format)', async () => {
    expect(await checkOf(token('{"alg":"RS256","alg":"none","kid":"k"}'))).toBe('format');
    expect(await checkOf(token(KID, '{"a":1,"a":1}'))).toBe('format');
  });

  it('applies the header rules before looking at the claims', async () => {
    expect(await checkOf(token('{"alg":"RS256","kid":"k","crit":[]}', '{"a":1,"a":1}'))).toBe('header');
  });

  it('refuses a header or claims segment that is not a JSON object', async () => {
    expect(await checkOf(token('[]'))).toBe('format');
    expect(await checkOf(token(KID, '[]'))).toBe('format');
    expect(await checkOf(token(KID, ''))).toBe('format');
  });

  it('refuses segments that are not canonical unpadded base64url', async () => {
    const good = token(KID);
    expect(await checkOf(`${good}=`)).toBe('format');
    expect(await checkOf(good.replace(/^e/, '!'))).toBe('format');
    expect(await checkOf(token(KID, '{}', 'c2lnAB+/'))).toBe('format');
    // 'YQ' and 'YR' both decode to "a" with a lenient decoder; 'YR' has non-zero trailing bits.
    expect(await checkOf(token(KID, '{}', 'YQ'))).toBe('key');
    expect(await checkOf(token(KID, '{}', 'YR'))).toBe('format');
  });

  it('accepts an empty signature segment as far as the format goes', async () => {
    expect(await checkOf(token(KID, '{}', ''))).toBe('key');
  });

  it('counts segments after removing trailing newlines only', async () => {
    expect(await checkOf('a.b')).toBe('format');
    expect(await checkOf('a.b.c.d')).toBe('format');
    expect(await checkOf(`${token(KID)}\r\n`)).toBe('key');
    expect(await checkOf(` ${token(KID)}`)).toBe('format');
  });

  it('refuses a token over 64 KiB before parsing it, counting UTF-8 bytes', async () => {
    expect(await checkOf('a'.repeat(MAX_TOKEN_BYTES + 1))).toBe('size');
    expect(await checkOf('a'.repeat(MAX_TOKEN_BYTES))).toBe('format');
    expect(await checkOf('é'.repeat(MAX_TOKEN_BYTES / 2 + 1))).toBe('size');
  });
});

describe('strict base64', () => {
  it('decodes unpadded base64url only when canonical', () => {
    expect(fromB64u('c2ln')).toEqual(new TextEncoder().encode('sig'));
    expect(fromB64u('YQ')).toEqual(new Uint8Array([0x61]));
    expect(fromB64u('YR')).toBeNull();
    expect(fromB64u('YQ==')).toBeNull();
    expect(fromB64u('Y')).toBeNull();
    expect(fromB64u('+/')).toBeNull();
    expect(fromB64u('')).toEqual(new Uint8Array());
  });

  it('decodes padded standard base64 only when canonical', () => {
    expect(fromB64Std('YQ==')).toEqual(new Uint8Array([0x61]));
    expect(fromB64Std('YWI=')).toEqual(new Uint8Array([0x61, 0x62]));
    expect(fromB64Std('YQ')).toBeNull();
    expect(fromB64Std('YQ=')).toBeNull();
    expect(fromB64Std('YR==')).toBeNull();
    expect(fromB64Std('YWJj====')).toBeNull();
    expect(fromB64Std('-_==')).toBeNull();
    expect(fromB64Std('+/8=')).toEqual(new Uint8Array([0xfb, 0xff]));
  });
});
