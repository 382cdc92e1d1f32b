import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWith } from '../core/contracts/validate.js';
import { CharTokenizer } from './charTokenizer.js';
import { type LineageManifest, LineageManifestSchema } from './lineageManifest.js';
import { LineageModel, type LineageModelOptions } from './lineageModel.js';
import { readSafetensors } from './safetensors.js';
import { Transformer } from './transformer.js';

/** The package's embedded lineage: models/arith-lineage at the package root (from src/lineage or dist/lineage). */
export const DEFAULT_LINEAGE_DIR = fileURLToPath(new URL('../../models/arith-lineage/', import.meta.url));

export const SPECIALIST_ID = 'arith-specialist';
export const ANCESTOR_ID = 'arith-ancestor';

export interface ArithLineage {
  /** The post-trained model (`arith-specialist`). */
  specialist: LineageModel;
  /** Its base model (`arith-ancestor`). */
  ancestor: LineageModel;
  /** lineage.json: vocabulary, architecture, the model card's evaluation table, the logits probe. */
  manifest: LineageManifest;
  /** The directory it was loaded from (absolute). */
  dir: string;
}

const loaded = new Map<string, ArithLineage>();

/**
 * Loads the arith-lineage pair (float32 safetensors, one WebAssembly instance per model) from
 * `dir` (default: the package's models/arith-lineage), once per process for a given directory
 * and options. Files listed in the directory's SHA256SUMS are checked against it; a mismatch or
 * a missing file throws, naming the file and the fix.
 */
export function loadArithLineage(dir: string = DEFAULT_LINEAGE_DIR, options: LineageModelOptions = {}): ArithLineage {
  const root = resolve(dir);
  const key = `${root}\u0000${JSON.stringify(options)}`;
  const cached = loaded.get(key);
  if (cached) return cached;
  const read = readChecked(root);
  const manifest = parseWith(LineageManifestSchema, JSON.parse(read('lineage.json').toString('utf8')), `${root}/lineage.json`);
  const tokenizer = new CharTokenizer(manifest.vocab);
  if (tokenizer.size !== manifest.config.vocab) {
    throw new RangeError(`${root}/lineage.json: config.vocab is ${manifest.config.vocab} but vocab lists ${tokenizer.size} tokens`);
  }
  const model = (file: string, id: string): LineageModel => {
    const net = new Transformer(manifest.config, readSafetensors(read(file), `${root}/${file}`), `${root}/${file}`);
    return new LineageModel(id, net, tokenizer, options);
  };
  const lineage: ArithLineage = {
    specialist: model('specialist.safetensors', SPECIALIST_ID),
    ancestor: model('ancestor.safetensors', ANCESTOR_ID),
    manifest,
    dir: root,
  };
  loaded.set(key, lineage);
  return lineage;
}

/** A reader of the directory's files that checks each against SHA256SUMS when it lists it. */
function readChecked(root: string): (file: string) => Buffer {
  const sums = new Map<string, string>();
  const sumsPath = `${root}/SHA256SUMS`;
  if (existsSync(sumsPath)) {
    for (const line of readFileSync(sumsPath, 'utf8').split('\n')) {
      const m = /^([0-9a-f]{64}) [ *]?(.+)$/.exec(line.trim());
      if (m) sums.set(m[2]!, m[1]!);
    }
  }
  return (file) => {
    const path = `${root}/${file}`;
    if (!existsSync(path)) throw new RangeError(`the arith lineage needs ${path}, which does not exist: pass the directory holding lineage.json and the .safetensors files`);
    const bytes = readFileSync(path);
    const want = sums.get(file);
    if (want) {
      const got = createHash('sha256').update(bytes).digest('hex');
      if (got !== want) throw new RangeError(`${path} is corrupt: its SHA-256 is ${got}, SHA256SUMS says ${want}; reinstall the package or restore the file`);
    }
    return bytes;
  };
}
