import { z } from 'zod';
import { parseWith } from '../core/contracts/validate.js';

/**
 * One tensor's entry in a safetensors header. Only float32 is accepted: the package ships its
 * weights in that one format.
 */
const TensorEntrySchema = z.object({
  dtype: z.literal('F32', { error: 'only F32 (float32) tensors are supported; convert the weights to float32' }),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

export interface Tensor {
  readonly shape: readonly number[];
  /** The tensor's float32 values, row-major (a view into the file's bytes when aligned). */
  readonly data: Float32Array;
}

/**
 * Reads a safetensors file (8-byte little-endian header length, a JSON header, raw
 * little-endian tensors) holding float32 tensors. Throws, naming the file and the tensor, when
 * the header is malformed or a tensor's byte range disagrees with its shape.
 */
export function readSafetensors(bytes: Uint8Array, file: string): Map<string, Tensor> {
  if (bytes.length < 8) throw new RangeError(`${file}: not a safetensors file (${bytes.length} bytes, no header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) {
    throw new RangeError(`${file}: header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    throw new RangeError(`${file}: the safetensors header is not JSON (${(err as Error).message})`);
  }
  const { __metadata__: _, ...entries } = parseWith(z.record(z.string(), z.unknown()), header, `${file}: safetensors header`);
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, Tensor>();
  for (const [name, raw] of Object.entries(entries)) {
    const entry = parseWith(TensorEntrySchema, raw, `${file}: tensor ${name}`);
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4 || dataStart + end > bytes.length) {
      throw new RangeError(`${file}: tensor ${name} of shape [${entry.shape}] needs ${count * 4} bytes but its data_offsets [${begin}, ${end}] give ${end - begin}${dataStart + end > bytes.length ? ', past the end of the file' : ''}`);
    }
    const offset = bytes.byteOffset + dataStart + begin;
    const data = offset % 4 === 0 ? new Float32Array(bytes.buffer, offset, count) : new Float32Array(bytes.slice(dataStart + begin, dataStart + end).buffer);
    tensors.set(name, { shape: entry.shape, data });
  }
  return tensors;
}
