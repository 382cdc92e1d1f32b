import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, testKey } from '../../src/report/testIdentity.js';

const grade = (config: Record<string, unknown>) => ({ type: 'javascript', value: 'package:promptfoo-recoverability:gradeRollouts', config });
const vars = { expression: '1+2', answer: '3' };

describe('testKey: what a test is, not how its failures are read', () => {
  it('is the same with or without gradeRollouts\' reference, policy and columns (so a probe joins the eval routed by its policy)', () => {
    const plain = testKey({ vars, assert: [grade({ grader: { type: 'numeric', var: 'answer' } })] });
    for (const extra of [{ reference: 'ref.csv' }, { policy: '/tmp/policy.json' }, { columns: 'all' }, { reference: 'r', policy: 'p', columns: 'all' }]) {
      expect(testKey({ vars, assert: [grade({ grader: { type: 'numeric', var: 'answer' }, ...extra })] }), JSON.stringify(extra)).toBe(plain);
    }
    // Keys of evals written before: unchanged (sha256 of {"assert":[…],"vars":{…}} without the reference).
    expect(plain).toMatch(/^sha256:[0-9a-f]{20}$/);
  });

  it('changes with what the test checks, and keeps a `policy` that belongs to another assertion', () => {
    const plain = testKey({ vars, assert: [grade({ grader: { type: 'numeric', var: 'answer' } })] });
    expect(testKey({ vars, assert: [grade({ grader: { type: 'numeric', var: 'answer' }, threshold: 0.8 })] })).not.toBe(plain);
    expect(testKey({ vars: { ...vars, answer: '4' }, assert: [grade({ grader: { type: 'numeric', var: 'answer' } })] })).not.toBe(plain);
    const other = (policy: string) => testKey({ vars, assert: [{ type: 'javascript', value: 'file://mine.js:check', config: { policy } }] });
    expect(other('a')).not.toBe(other('b'));
  });

  it('is sha-256 of the canonical JSON {"assert":…,"vars":…} with keys sorted at every level (digests computed apart, in Python)', () => {
    // Flat vars (the fast path: one JSON.stringify with the keys in order) and nested ones (the general path).
    expect(testKey({ vars: { q: 'x', n: 2.5, answer: '4' } })).toBe('sha256:1fc2ef42688b6bcfe04a');
    const nested = { question: '2+2 "quoted"?', n: 2.5, flag: true, answer: '4', a: [1, { z: 'é', y: null }], skipped: undefined };
    const assert = [{ value: 'package:promptfoo-recoverability:gradeRollouts', type: 'javascript', config: { grader: { var: 'answer', type: 'numeric' }, reference: 'r.json' } }];
    expect(testKey({ vars: nested, assert })).toBe('sha256:b502d003adf188c5a6fa');
    // The same assertions given as raw JSON text (how the output reader passes them).
    expect(testKey({ vars: nested }, null, JSON.stringify(assert))).toBe('sha256:b502d003adf188c5a6fa');
  });
});

describe('canonicalJson', () => {
  /** The definition, written plainly: keys sorted at every level, undefined members dropped. */
  const reference = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : reference(x))).join(',')}]`;
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${reference(o[k])}`)
      .join(',')}}`;
  };

  it('sorts keys that look like array indexes as text, keeps a __proto__ member (as JSON.parse makes one), writes a Date as JSON does', () => {
    const parsed = JSON.parse('{"b":1,"10":"x","9":null,"__proto__":"p","a":true,"-1":2}') as Record<string, unknown>;
    expect(canonicalJson(parsed)).toBe('{"-1":2,"10":"x","9":null,"__proto__":"p","a":true,"b":1}');
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":"p","a":true}'))).toBe('{"__proto__":"p","a":true,"b":1}');
    expect(canonicalJson({ z: 1, y: 'é', x: -0, w: 1e21 })).toBe('{"w":1e+21,"x":0,"y":"é","z":1}');
    // A Date (js-yaml reads a YAML timestamp as one) is written as JSON writes it, as its JSON text reads back.
    expect(canonicalJson({ when: new Date(0), a: 1 })).toBe('{"a":1,"when":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJson(new Date(0))).toBe(canonicalJson(JSON.parse(JSON.stringify(new Date(0)))));
  });

  it('is the plain definition for any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)))), (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 1000 },
    );
  });
});
