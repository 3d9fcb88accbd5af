import { describe, expect, it } from 'vitest';

import { isObject, JsonError, JsonNumber, MAX_DEPTH, parseObject, toPlain, utf8 } from './json.js';

const refused = (text: string): void => {
  expect(() => parseObject(text), text).toThrow(JsonError);
};

describe('strict JSON', () => {
  it('accepts nested objects with distinct keys', () => {
    const map = parseObject('{"a":1,"b":{"a":2,"c":[{"a":3}]}}');
    expect(toPlain(map)).toEqual({ a: 1, b: { a: 2, c: [{ a: 3 }] } });
  });

  it('refuses a duplicate top-level key', () => {
    expect(() => parseObject('{"aud":"a","aud":"b"}')).toThrow(/duplicate key `aud`/);
  });

  it('refuses a duplicate key deep inside an array', () => {
    expect(() => parseObject('{"x":[{"k":1,"k":2}]}')).toThrow(/duplicate key `k`/);
  });

  it('refuses keys that are equal once escapes are decoded', () => {
    expect(() => parseObject('{"iss":"a","i\\u0073s":"b"}')).toThrow(/duplicate key `iss`/);
  });

  it('refuses trailing data and a top level that is not an object', () => {
    refused('{} {}');
    refused('[1]');
    refused('"s"');
    refused('{');
    refused('');
  });

  it('refuses what RFC 8259 does not allow', () => {
    for (const text of ['{"a":1,}', '{"a":[1,]}', "{'a':1}", '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":+1}', '{"a":-}', '{"a":NaN}', '{"a":Infinity}', '{"a":tru}', '{a:1}', '{"a":1}/**/', '{"a":"\\x"}', '{"a":"\u0001"}', '\ufeff{}', '{"a"\u00a0:1}']) {
      refused(text);
    }
  });

  it('allows the four JSON whitespace characters around tokens', () => {
    expect(isObject(parseObject(' \t\r\n{ "a" : [ 1 , 2 ] }\n'))).toBe(true);
  });

  it('refuses lone surrogates in escapes, as serde_json does for strings', () => {
    refused('{"a":"\\ud800"}');
    refused('{"a":"\\udc00"}');
    refused('{"a":"\\ud800x"}');
    refused('{"a":"\\ud800\\n"}');
    refused('{"a":"\\ud800\\u0041"}');
    refused('{"\\ud800":1}');
    expect(toPlain(parseObject('{"a":"\\ud83d\\ude00"}'))).toEqual({ a: '😀' });
  });

  it('refuses a number that overflows a double, and keeps every number as written', () => {
    refused('{"a":1e400}');
    refused(`{"a":${'9'.repeat(400)}}`);
    const map = parseObject('{"i":2,"f":2.0,"e":2e0,"n":-0,"tiny":1e-400}');
    expect([...map.values()].map((v) => (v instanceof JsonNumber ? v.text : v))).toEqual(['2', '2.0', '2e0', '-0', '1e-400']);
    expect([...map.values()].map((v) => v instanceof JsonNumber && v.isUnsignedInteger())).toEqual([true, false, false, false, false]);
  });

  it(`allows ${MAX_DEPTH} nested containers and refuses one more, as serde_json's recursion limit`, () => {
    const nest = (depth: number): string => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    expect(isObject(parseObject(nest(MAX_DEPTH)))).toBe(true);
    refused(nest(MAX_DEPTH + 1));
  });

  it('keeps __proto__ as a plain key', () => {
    const map = parseObject('{"__proto__":{"polluted":true}}');
    expect(map.has('__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(toPlain(map) as object)).toEqual(['__proto__']);
  });

  it('decodes only valid UTF-8 and keeps a BOM, which then fails to parse', () => {
    expect(() => utf8(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(JsonError);
    expect(() => utf8(new Uint8Array([0xed, 0xa0, 0x80]))).toThrow(JsonError);
    expect(() => parseObject(utf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])))).toThrow(JsonError);
  });
});
