import { InputError } from '../io/inputError.js';

/** A whole-number flag value, or an InputError naming the flag and the range. */
export function intOption(flag: string, value: string | undefined, min = -(2 ** 31), max = 2 ** 31 - 1): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new InputError(`${flag} takes a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}
