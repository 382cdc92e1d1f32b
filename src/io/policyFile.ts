import { readFile, writeFile } from 'node:fs/promises';
import { ContractError, parseWith } from '../core/contracts/validate.js';
import { POLICY_FORMAT, POLICY_VERSION, PolicySchema, type Policy } from '../core/policy/policySchema.js';
import { InputError } from './inputError.js';

/**
 * Reads policy.json (written by `recoverability calibrate`). A missing or unreadable file, bad
 * JSON, another format or version, or a field that breaks the schema is an InputError naming
 * the file and the field.
 */
export async function readPolicyFile(path: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read policy ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parsePolicyJson(text, path);
}

/** The text form of readPolicyFile. */
export function parsePolicyJson(text: string, source: string): Policy {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  const head = data as { format?: unknown; version?: unknown } | null;
  if (head?.format !== POLICY_FORMAT) {
    throw new InputError(`${source} is not a policy file (its "format" is ${JSON.stringify(head?.format)}, expected "${POLICY_FORMAT}"): write one with "recoverability calibrate probe.csv --out policy.json"`);
  }
  if (head.version !== POLICY_VERSION) {
    throw new InputError(`${source} is policy version ${JSON.stringify(head.version)}; this version reads version ${POLICY_VERSION}: rerun "recoverability calibrate" on the probe`);
  }
  try {
    return parseWith(PolicySchema, data, source);
  } catch (err) {
    if (err instanceof ContractError) throw new InputError(`${source}: ${err.problems.map((p) => `field "${p.path}": ${p.message}`).join('; ')}`);
    throw err;
  }
}

/** Writes policy.json after checking it against the schema (a policy that fails is a bug, not input). */
export async function writePolicyFile(path: string, policy: Policy): Promise<void> {
  const checked = parseWith(PolicySchema, policy, 'policy');
  try {
    await writeFile(path, JSON.stringify(checked, null, 2) + '\n');
  } catch (err) {
    throw new InputError(`cannot write policy ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
