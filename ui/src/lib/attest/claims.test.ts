import { describe, expect, it } from 'vitest';

import { CheckFailed } from './checks.js';
import { supportAttributes, typeClaims } from './claims.js';
import { parseObject } from './json.js';

/** The claims of a minimal token, as raw JSON texts by name (so each can be replaced). */
const FIELDS: Record<string, string> = {
  iss: '"i"',
  aud: '"a"',
  iat: '1',
  nbf: '1',
  exp: '2',
  eat_nonce: '["n1","n2"]',
  swname: '"CONFIDENTIAL_SPACE"',
  secboot: 'true',
  dbgstat: '"disabled-since-boot"',
  hwmodel: '"GCP_INTEL_TDX"',
  submods: '{"container":{"image_digest":"sha256:00"}}',
};
const build = (fields: Record<string, string>): string => `{${Object.entries(fields).map(([k, v]) => `"${k}":${v}`).join(',')}}`;
const MINIMAL = build(FIELDS);
const withClaim = (name: string, value: string): string => build({ ...FIELDS, [name]: value });

const typed = (json: string) => typeClaims(parseObject(json));
const checkOf = (json: string): string => {
  try {
    typed(json);
    return 'typed';
  } catch (e) {
    if (e instanceof CheckFailed) return e.check;
    throw e;
  }
};

describe('typed claims', () => {
  it('types a minimal token', () => {
    const c = typed(MINIMAL);
    expect(c.eat_nonce).toEqual(['n1', 'n2']);
    expect(c.aud).toEqual(['a']);
    expect(c.exp).toBe(2n);
    expect(c.sub).toBeNull();
    expect(c.submods.gce).toBeNull();
    expect(supportAttributes(c)).toEqual([]);
  });

  it.each(['"2"', '2.5', '2.0', '2e0', '-1', '-0', '18446744073709551616', 'null', 'true'])('refuses exp %s', (value) => {
    expect(checkOf(withClaim('exp', value))).toBe('claims');
  });

  it('reads times as exact unsigned 64-bit integers', () => {
    expect(typed(withClaim('exp', '18446744073709551615')).exp).toBe(18446744073709551615n);
    expect(typed(withClaim('iat', '9007199254740993')).iat).toBe(9007199254740993n);
  });

  it.each([
    ['secboot as a string', 'secboot', '"true"'],
    ['iss as a number', 'iss', '1'],
    ['aud as an array holding a number', 'aud', '["a",1]'],
    ['aud as null', 'aud', 'null'],
    ['eat_nonce as an object', 'eat_nonce', '{"n":"1"}'],
    ['swname as null', 'swname', 'null'],
  ])('refuses %s', (_name, claim, value) => {
    expect(checkOf(withClaim(claim, value))).toBe('claims');
  });

  it('accepts aud and eat_nonce as one string or an array of strings, empty included', () => {
    expect(typed(withClaim('eat_nonce', '"n"')).eat_nonce).toEqual(['n']);
    expect(typed(withClaim('aud', '[]')).aud).toEqual([]);
  });

  it('treats optional fields as absent when null, but never a null array or map', () => {
    expect(typed(MINIMAL.replace('"iss":"i",', '"iss":"i","sub":null,"gce_unused":0,')).sub).toBeNull();
    expect(checkOf(MINIMAL.replace('"iss":"i",', '"iss":"i","swversion":null,'))).toBe('claims');
    expect(checkOf(MINIMAL.replace('"sha256:00"', '"sha256:00","env":null'))).toBe('claims');
    expect(checkOf(MINIMAL.replace('"sha256:00"', '"sha256:00","env":{"A":1}'))).toBe('claims');
    expect(typed(MINIMAL.replace('"container"', '"gce":null,"container"')).submods.gce).toBeNull();
  });

  it('names a missing claim, nested ones by their path', () => {
    expect(() => typed(MINIMAL.replace('"swname":"CONFIDENTIAL_SPACE",', ''))).toThrow(/`swname`/);
    expect(() => typed(MINIMAL.replace('"container"', '"gce":{},"container"'))).toThrow(/`submods.gce.project_id`/);
  });

  it('reads nested structs from arrays of their fields, as serde_json does', () => {
    const positional = MINIMAL.replace('{"container":{"image_digest":"sha256:00"}}', '[["sha256:00",null,null,null,{"K":"v"}],["p"],{"support_attributes":["STABLE"]}]');
    const c = typed(positional);
    expect(c.submods.container.image_digest).toBe('sha256:00');
    expect(c.submods.container.env.get('K')).toBe('v');
    expect(c.submods.gce?.project_id).toBe('p');
    expect(supportAttributes(c)).toEqual(['STABLE']);
    expect(checkOf(MINIMAL.replace('{"container":{"image_digest":"sha256:00"}}', '[["sha256:00",null,null,null,{},{},"extra"]]'))).toBe('claims');
    expect(checkOf(MINIMAL.replace('{"container":{"image_digest":"sha256:00"}}', '[]'))).toBe('claims');
    expect(checkOf(MINIMAL.replace('{"container":{"image_digest":"sha256:00"}}', '"x"'))).toBe('claims');
  });
});
