import { InputError } from '../io/inputError.js';
import { type Mix, parseMix } from '../simulator/mechanisms.js';

/** A whole-number flag value, or an InputError naming the flag and the range. */
export function intOption(flag: string, value: string | undefined, min = -(2 ** 31), max = 2 ** 31 - 1): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new InputError(`${flag} takes a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** The --mix flag as a mechanism mix (undefined when absent), or an InputError saying what is wrong. */
export function mixOption(value: string | undefined): Mix | undefined {
  if (value === undefined) return undefined;
  try {
    return parseMix(value);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}
