import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LINEAGE_DIR, loadArithLineage } from '../../src/lineage/index.js';
import { readSafetensors } from '../../src/lineage/safetensors.js';

const FILES = ['specialist.safetensors', 'ancestor.safetensors', 'lineage.json', 'MODEL_CARD.md', 'SHA256SUMS'];

function copyLineage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lineage-'));
  for (const f of FILES) copyFileSync(join(DEFAULT_LINEAGE_DIR, f), join(dir, f));
  return dir;
}

/** A safetensors file from a header object and a data section. */
function safetensors(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('loadArithLineage', () => {
  it("defaults to the package's models/arith-lineage, next to src/ and dist/", () => {
    expect(DEFAULT_LINEAGE_DIR.replace(/\\/g, '/')).toMatch(/\/models\/arith-lineage\/$/);
    expect(loadArithLineage().manifest.config).toEqual({ d: 192, L: 4, h: 6, ctx: 128, vocab: 28 });
  });

  it('works from the built dist/ too (as in an installed package), from any working directory', () => {
    const script = `const m = await import(${JSON.stringify(new URL('../../dist/lineage/index.js', import.meta.url).href)}); const l = m.loadArithLineage(); console.log(l.dir, l.specialist.id, (await l.ancestor.sample([1], { n: 1, seed: 0, temperature: 0, maxTokens: 4, topK: 1 }))[0].text.length);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: tmpdir(), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`${DEFAULT_LINEAGE_DIR.replace(/\/$/, '')} arith-specialist 4`);
  });

  it('loads a copy elsewhere, and checks every file SHA256SUMS lists', () => {
    const dir = copyLineage();
    expect(loadArithLineage(dir).specialist.id).toBe('arith-specialist');
    const bad = copyLineage();
    const bytes = readFileSync(join(bad, 'ancestor.safetensors'));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    writeFileSync(join(bad, 'ancestor.safetensors'), bytes);
    expect(() => loadArithLineage(bad)).toThrow(/ancestor\.safetensors is corrupt: its SHA-256 is [0-9a-f]{64}, SHA256SUMS says c3767b68.*reinstall the package/);
  });

  it('names a missing file and a malformed lineage.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineage-empty-'));
    expect(() => loadArithLineage(dir)).toThrow(/needs .*lineage\.json, which does not exist/);
    const odd = copyLineage();
    const manifest = JSON.parse(readFileSync(join(odd, 'lineage.json'), 'utf8'));
    manifest.config.d = 'wide';
    writeFileSync(join(odd, 'lineage.json'), JSON.stringify(manifest));
    writeFileSync(join(odd, 'SHA256SUMS'), '');
    expect(() => loadArithLineage(odd)).toThrow(/lineage\.json is invalid:\n {2}at config\.d: Invalid input: expected number, received string/);
  });
});

describe('readSafetensors', () => {
  it('reads float32 tensors at their offsets', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const t = readSafetensors(safetensors({ a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [16, 24] }, __metadata__: { format: 'pt' } }, data), 'x');
    expect(Array.from(t.get('a')!.data)).toEqual([1, 2, 3, 4]);
    expect(t.get('b')!.shape).toEqual([2]);
    expect(Array.from(t.get('b')!.data)).toEqual([5, 6]);
  });

  it('refuses other dtypes, inconsistent offsets, and broken headers, naming the tensor', () => {
    expect(() => readSafetensors(safetensors({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), 'm.safetensors')).toThrow(
      /m\.safetensors: tensor w is invalid:\n {2}at dtype: only F32 \(float32\) tensors are supported/,
    );
    expect(() => readSafetensors(safetensors({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), 'm')).toThrow(
      'm: tensor w of shape [3] needs 12 bytes but its data_offsets [0, 8] give 8',
    );
    expect(() => readSafetensors(safetensors({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), 'm')).toThrow(/past the end of the file/);
    expect(() => readSafetensors(new Uint8Array(3), 'm')).toThrow('m: not a safetensors file (3 bytes, no header length)');
    const broken = safetensors({}); // header "{}", 2 bytes
    broken.set([0x7b, 0x7b], 8); // now "{{"
    expect(() => readSafetensors(broken, 'm')).toThrow(/m: the safetensors header is not JSON/);
  });
});
