import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the run-wide temporary folder (test/setup/tempRoot.ts)', () => {
  it('puts every temporary folder of the run under one folder made for it', () => {
    expect(basename(tmpdir())).toMatch(/^recoverability-tests-/);
    expect(existsSync(tmpdir())).toBe(true);
    expect(process.env.TMPDIR).toBe(tmpdir());
    expect(dirname(tmpdir())).not.toBe(tmpdir());
  });
});
