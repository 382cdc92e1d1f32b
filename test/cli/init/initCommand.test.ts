import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { initCommand } from '../../../src/cli/initCommand.js';
import { hooksPath } from '../../../src/cli/init/hooksPath.js';
import { InputError } from '../../../src/io/inputError.js';

const EXAMPLE = resolve('examples/add-to-existing');

/** A scratch project with the package "installed" (its hooks.js is all init looks for). */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'recov-init-'));
  mkdirSync(join(dir, 'node_modules', 'promptfoo-recoverability'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'promptfoo-recoverability', 'hooks.js'), '');
  return dir;
}

async function init(...argv: string[]) {
  const lines: string[] = [];
  const code = await initCommand(argv, (s) => lines.push(s));
  return { code, out: lines.join('\n') };
}

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe('recoverability init on the example pair', () => {
  it('turns examples/add-to-existing/before.yaml into after.yaml, byte for byte', async () => {
    const dir = project();
    const config = write(dir, 'promptfooconfig.yaml', readFileSync(join(EXAMPLE, 'before.yaml'), 'utf8'));
    write(dir, 'tests.csv', readFileSync(join(EXAMPLE, 'tests.csv'), 'utf8'));
    const r = await init(config);
    expect(r.code).toBe(0);
    expect(readFileSync(config, 'utf8')).toBe(readFileSync(join(EXAMPLE, 'after.yaml'), 'utf8'));
    expect(readFileSync(`${config}.bak`, 'utf8')).toBe(readFileSync(join(EXAMPLE, 'before.yaml'), 'utf8'));
    expect(r.out).toMatch(/providers\[0\]: openai:completion:sim-specialist is now sampled 8 times per test by the RolloutProvider/);
    expect(r.out).toMatch(/guessed: your `contains` assertion "Answer: \{\{answer\}\}" reads the var "answer", and its 6 values are all numbers/);
    expect(r.out).toMatch(/replace its specialist with:\n\s+specialist: \{ type: endpoint, baseUrl: '\{\{ env\.VLLM_BASE_URL[^\n]*model: sim-specialist \}/);
    // Idempotent: a second run changes nothing and keeps no second backup.
    const again = await init(config);
    expect(again.out).toMatch(/already set up for promptfoo-recoverability; nothing to change/);
    expect(readFileSync(config, 'utf8')).toBe(readFileSync(join(EXAMPLE, 'after.yaml'), 'utf8'));
    expect(existsSync(`${config}.bak.1`)).toBe(false);
  });

  it('--dry-run prints a unified diff and writes nothing', async () => {
    const dir = project();
    const before = readFileSync(join(EXAMPLE, 'before.yaml'), 'utf8');
    const config = write(dir, 'promptfooconfig.yaml', before);
    const r = await init(config, '--dry-run');
    expect(r.out).toMatch(/^--- .*promptfooconfig\.yaml\n\+\+\+ .*\(after init\)\n@@ /m);
    expect(r.out).toContain('-  - id: openai:completion:sim-specialist');
    expect(r.out).toContain('+  - id: package:promptfoo-recoverability:RolloutProvider');
    expect(r.out).toContain('+  - file://node_modules/promptfoo-recoverability/hooks.js:afterAll');
    expect(r.out).toMatch(/dry run: nothing written/);
    expect(readFileSync(config, 'utf8')).toBe(before);
    expect(existsSync(`${config}.bak`)).toBe(false);
  });
});

describe('recoverability init: configs as users write them', () => {
  it('a config in a subfolder gets hook paths relative to it, and a wrong one is corrected', async () => {
    const dir = project();
    const config = write(
      dir,
      'evals/math.yaml',
      `providers: [openai:chat:gpt-4o-mini]
tests: [{vars: {q: '1+1', answer: 2}}]
extensions:
  - file://node_modules/promptfoo-recoverability/hooks.js:afterEach   # as the old README said
  - file://my-hooks.js:afterAll
`,
    );
    const r = await init(config);
    const after = parse(readFileSync(config, 'utf8'));
    expect(after.extensions).toEqual(['file://../node_modules/promptfoo-recoverability/hooks.js:afterEach', 'file://my-hooks.js:afterAll', 'file://../node_modules/promptfoo-recoverability/hooks.js:afterAll']);
    expect(r.out).toMatch(/file:\/\/node_modules\/promptfoo-recoverability\/hooks\.js:afterEach → file:\/\/\.\.\/node_modules\/promptfoo-recoverability\/hooks\.js:afterEach/);
    expect(readFileSync(config, 'utf8')).toContain('# as the old README said');
    expect(after.providers).toEqual([
      { id: 'package:promptfoo-recoverability:RolloutProvider', label: 'openai:chat:gpt-4o-mini', config: { specialist: { type: 'provider', id: 'openai:chat:gpt-4o-mini' }, samples: 8 } },
    ]);
    expect(after.defaultTest.assert[0].config.grader).toEqual({ type: 'numeric', var: 'answer' });
  });

  it('every provider form: a string, a mapping with label and options, the one-key map form, a top-level string, targets:', async () => {
    const dir = project();
    const config = write(
      dir,
      'promptfooconfig.yaml',
      `# my eval
prompts: [file://prompt.txt]
providers:
  # the cheap one
  - openai:chat:gpt-4o-mini
  - id: anthropic:messages:claude-3-5-haiku-20241022 # fast
    label: haiku
    delay: 100
    config:
      temperature: 0.2 # keep low
  - ollama:chat:llama3:
      config: { num_predict: 200 }
defaultTest:
  vars: { system: be brief }
  assert:
    - type: equals
      value: '{{expected}}'
tests:
  - vars: { question: capital of France?, expected: Paris }
  - vars: { question: capital of Italy?, expected: Rome }
`,
    );
    const r = await init(config, '--samples', '5');
    expect(r.code).toBe(0);
    const text = readFileSync(config, 'utf8');
    for (const comment of ['# my eval', '# the cheap one', '# fast', '# keep low']) expect(text).toContain(comment);
    const after = parse(text);
    const wrap = (id: string, label: string, config?: object, extra: object = {}) => ({
      id: 'package:promptfoo-recoverability:RolloutProvider',
      label,
      config: { specialist: { type: 'provider', id, ...(config ? { config } : {}) }, samples: 5 },
      ...extra,
    });
    expect(after.providers).toEqual([
      wrap('openai:chat:gpt-4o-mini', 'openai:chat:gpt-4o-mini'),
      wrap('anthropic:messages:claude-3-5-haiku-20241022', 'haiku', { temperature: 0.2 }, { delay: 100 }),
      wrap('ollama:chat:llama3', 'ollama:chat:llama3', { num_predict: 200 }),
    ]);
    expect(after.defaultTest.vars).toEqual({ system: 'be brief' });
    expect(after.defaultTest.assert[1]).toEqual({ type: 'javascript', value: 'package:promptfoo-recoverability:gradeRollouts', config: { grader: { type: 'equals', var: 'expected' } } });
    expect(r.out).toMatch(/its 2 values are not all numbers: the rollout's final answer must equal it/);

    const single = write(dir, 'single.yaml', 'providers: openai:chat:gpt-4o\ntests: []\n');
    await init(single);
    expect(parse(readFileSync(single, 'utf8')).providers[0].config.specialist).toEqual({ type: 'provider', id: 'openai:chat:gpt-4o' });
    const targets = write(dir, 'targets.yaml', 'targets:\n  - echo\n');
    const t = await init(targets);
    expect(parse(readFileSync(targets, 'utf8')).targets[0].label).toBe('echo');
    expect(t.out).toMatch(/not guessed: .*set config\.grader/);
  });

  it('keeps a config that already has the plugin as it is, whatever its layout', async () => {
    const dir = project();
    const text = readFileSync('promptfooconfig.yaml', 'utf8').replace(/file:\/\/hooks\.js/g, 'file://node_modules/promptfoo-recoverability/hooks.js');
    const config = write(dir, 'promptfooconfig.yaml', text);
    const r = await init(config);
    expect(r.out).toMatch(/nothing to change/);
    expect(readFileSync(config, 'utf8')).toBe(text);
  });

  it('a backup never overwrites an earlier one', async () => {
    const dir = project();
    const config = write(dir, 'promptfooconfig.yaml', 'providers: [echo]\n');
    write(dir, 'promptfooconfig.yaml.bak', 'an older backup\n');
    const r = await init(config);
    expect(r.out).toMatch(/backup: .*promptfooconfig\.yaml\.bak\.1/);
    expect(readFileSync(`${config}.bak`, 'utf8')).toBe('an older backup\n');
    expect(readFileSync(`${config}.bak.1`, 'utf8')).toBe('providers: [echo]\n');
  });

  it.each([
    ['no providers', 'prompts: [hi]\n', /has no providers: add the provider you evaluate/],
    ['invalid YAML', 'providers: [echo\n', /not valid YAML at line \d+/],
    ['not a mapping', '- a\n- b\n', /not a YAML mapping/],
    ['providers a mapping', 'providers: {a: 1, b: 2}\n', /providers: expected a list of providers/],
  ])('bad input: %s is a named InputError, the file untouched', async (_name, text, message) => {
    const config = write(project(), 'promptfooconfig.yaml', text);
    await expect(init(config)).rejects.toThrow(InputError);
    await expect(init(config)).rejects.toThrow(message);
    expect(readFileSync(config, 'utf8')).toBe(text);
  });

  it('a JSON or JS config, a missing file: named errors', async () => {
    await expect(init('promptfooconfig.json')).rejects.toThrow(/init edits YAML configs; for a \.json, add the three blocks by hand/);
    await expect(init(join(project(), 'missing.yaml'))).rejects.toThrow(/missing\.yaml: cannot be read \(ENOENT\)/);
  });

  it('finds promptfooconfig.yaml in the working folder when no path is given (the CLI)', () => {
    const dir = project();
    write(dir, 'promptfooconfig.yaml', 'providers: [echo]\n');
    const r = spawnSync(process.execPath, [resolve('bin/recoverability.js'), 'init', '--no-backup'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^recoverability init: promptfooconfig\.yaml$/m);
    expect(existsSync(join(dir, 'promptfooconfig.yaml.bak'))).toBe(false);
    const none = spawnSync(process.execPath, [resolve('bin/recoverability.js'), 'init'], { cwd: mkdtempSync(join(tmpdir(), 'recov-init-')), encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no promptfooconfig\.yaml in .*; give the config's path/);
  });
});

describe('init is idempotent and keeps every provider (property)', () => {
  const id = fc.constantFrom('openai:chat:gpt-4o-mini', 'echo', 'anthropic:messages:claude', 'ollama:chat:llama3', 'vllm:my-model');
  const provider = fc.oneof(
    id,
    fc.record({ id, label: fc.option(fc.constantFrom('a', 'b c', 'x:y'), { nil: undefined }), config: fc.option(fc.record({ temperature: fc.double({ min: 0, max: 2, noNaN: true }) }), { nil: undefined }) }, { requiredKeys: ['id'] }),
  );
  it('init(init(c)) = init(c); each provider becomes the specialist of one wrapper, config unchanged', async () => {
    const dir = project();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(provider, { minLength: 1, maxLength: 4 }), async (providers) => {
        const clean = providers.map((p) => (typeof p === 'string' ? p : Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined))));
        const config = write(dir, `c${n++}.yaml`, `providers: ${JSON.stringify(clean)}\ntests: [{vars: {answer: 1}}]\n`);
        await init(config, '--no-backup');
        const once = readFileSync(config, 'utf8');
        await init(config, '--no-backup');
        expect(readFileSync(config, 'utf8')).toBe(once);
        const after = parse(once);
        expect(after.providers).toHaveLength(clean.length);
        after.providers.forEach((w: any, i: number) => {
          const p = clean[i]!;
          const pid = typeof p === 'string' ? p : p.id;
          expect(w.id).toBe('package:promptfoo-recoverability:RolloutProvider');
          expect(w.config.specialist.id).toBe(pid);
          expect(w.label).toBe(typeof p === 'string' ? p : (p.label ?? p.id));
          expect(w.config.specialist.config).toEqual(typeof p === 'string' ? undefined : p.config);
        });
        expect(after.extensions).toEqual(['file://node_modules/promptfoo-recoverability/hooks.js:afterEach', 'file://node_modules/promptfoo-recoverability/hooks.js:afterAll']);
      }),
      { numRuns: 40 },
    );
  });
});

describe('hooksPath', () => {
  it('prefers the installed copy, relative to the config folder; else this package', () => {
    const dir = project();
    expect(hooksPath(dir)).toBe('node_modules/promptfoo-recoverability/hooks.js');
    expect(hooksPath(join(dir, 'a', 'b'))).toBe('../../node_modules/promptfoo-recoverability/hooks.js');
    const bare = mkdtempSync(join(tmpdir(), 'recov-init-'));
    expect(hooksPath(bare, '/opt/pkg/')).toMatch(/^(\.\.\/)+opt\/pkg\/hooks\.js$/);
    expect(hooksPath(resolve('examples/add-to-existing'))).toBe('../../hooks.js');
  });
});
