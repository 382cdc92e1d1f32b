import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { describeParseError, didYouMean, flagsOf } from '../../src/cli/cliErrors.js';
import { COMMANDS, firstPositional, main } from '../../src/cli/main.js';
import { InputError } from '../../src/io/inputError.js';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const parseError = (args: string[], options: ParseArgsConfig['options']) => {
  try {
    parseArgs({ args, options });
  } catch (e) {
    return e as Error & { code: string };
  }
  throw new Error('parseArgs accepted the input');
};

describe('didYouMean', () => {
  it('a typo within two edits, or a unique prefix; nothing for a stranger word', () => {
    expect(didYouMean('valdate', ['route', 'validate', 'report'])).toBe('validate');
    expect(didYouMean('rpeort', ['route', 'validate', 'report'])).toBe('report');
    expect(didYouMean('val', ['route', 'validate', 'report'])).toBe('validate');
    expect(didYouMean('rep', ['route', 'validate', 'report'])).toBe('report');
    expect(didYouMean('r', ['route', 'validate', 'report'])).toBeUndefined(); // two commands start with r; none within 2 edits
    expect(didYouMean('kubernetes', ['route', 'validate', 'report'])).toBeUndefined();
    expect(didYouMean('x', [])).toBeUndefined();
  });
});

describe('parse errors in our words', () => {
  const usage = 'Usage: x [--problems N] [--out FILE] [--json]';
  it('names the flag, suggests the nearest, never repeats the parser text', () => {
    expect(flagsOf(usage)).toEqual(['--problems', '--out', '--json']);
    const unknown = parseError(['--probelms', '3'], { problems: { type: 'string' } });
    expect(describeParseError(unknown, usage)).toBe('unknown option --probelms; did you mean --problems?');
    expect(describeParseError(parseError(['--zzz'], {}), usage)).toBe('unknown option --zzz');
    expect(describeParseError(parseError(['--out'], { out: { type: 'string' } }), usage)).toBe('--out needs a value');
    expect(describeParseError(parseError(['--json=1'], { json: { type: 'boolean' } }), usage)).toBe('--json is a switch and takes no value');
    expect(describeParseError(parseError(['stray'], {}), usage)).toBe('unexpected argument "stray" (this command takes none; flags start with --)');
  });
});

describe('main: exit codes and messages', () => {
  afterEach(() => {
    delete COMMANDS.boom;
  });

  it('--version prints package.json\'s version', async () => {
    const r = await run('--version');
    expect(r.code).toBe(0);
    expect(r.out).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('a mistyped command: exit 2, "did you mean", and the overview', async () => {
    const r = await run('valdate', '--sim');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^recoverability: unknown command "valdate"; did you mean "validate"\?\n\nUsage: recoverability <command>/);
    expect((await run('--verison')).err).toMatch(/unknown option "--verison"; did you mean "--version"\?/);
  });

  it('no command: the overview on stderr, exit 2; --help and help <command> exit 0', async () => {
    const none = await run();
    expect(none.code).toBe(2);
    for (const name of Object.keys(COMMANDS)) expect(none.err).toContain(`  ${COMMANDS[name]!.synopsis}`);
    expect((await run('--help')).code).toBe(0);
    const help = await run('help', 'init');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: recoverability init/);
    expect((await run('help', 'nope')).code).toBe(2);
  });

  it('an unknown flag: the flag, a suggestion and the command\'s usage, exit 2', async () => {
    const r = await run('validate', '--sim', '--problmes', '20');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^recoverability validate: unknown option --problmes; did you mean --problems\?\n\nUsage: recoverability validate/);
    expect(r.err).not.toMatch(/To specify a positional argument/);
  });

  it('an InputError: its one line, exit 2', async () => {
    COMMANDS.boom = { load: async () => ({ run: async () => { throw new InputError('--x takes a number, got "y"'); }, usage: 'Usage: boom' }), synopsis: 'boom', summary: 'test' };
    const r = await run('boom');
    expect(r).toEqual({ code: 2, out: '', err: 'recoverability boom: --x takes a number, got "y"' });
  });

  it('an unexpected error: one line and a hint, exit 2; --debug (anywhere) prints the stack', async () => {
    COMMANDS.boom = { load: async () => ({ run: async () => { throw new TypeError('cannot read properties of undefined\n  detail'); }, usage: 'Usage: boom' }), synopsis: 'boom', summary: 'test', aliases: ['bang'] };
    const r = await run('boom');
    expect(r.code).toBe(2);
    expect(r.err).toBe('recoverability boom: unexpected error: TypeError: cannot read properties of undefined (rerun with --debug for the stack)');
    const d = await run('bang', '--debug');
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/unexpected error: TypeError: cannot read properties of undefined[\s\S]*\n\s+at /);
  });

  it('a command is loaded only when asked for; `help <command>` prints its usage; no name of Object.prototype is a command', async () => {
    let loads = 0;
    COMMANDS.boom = { load: async () => (loads++, { run: async () => 0, usage: 'Usage: boom [--now]' }), synopsis: 'boom', summary: 'test' };
    await run('--help');
    expect(loads).toBe(0);
    expect(await run('help', 'boom')).toEqual({ code: 0, out: 'Usage: boom [--now]', err: '' });
    expect(loads).toBe(1);
    for (const argv of [['toString'], ['help', 'constructor']]) {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^recoverability: unknown command "(toString|constructor)"/);
    }
    COMMANDS.boom = { load: async () => { throw new Error('Cannot find module ./boomCommand.js'); }, synopsis: 'boom', summary: 'test' };
    expect(await run('help', 'boom')).toEqual({ code: 2, out: '', err: 'recoverability help: unexpected error: Cannot find module ./boomCommand.js (rerun with --debug for the stack)' });
  });

  it('a new command in COMMANDS is listed, with its aliases', async () => {
    COMMANDS.boom = { load: async () => ({ run: async () => 0, usage: 'Usage: boom' }), synopsis: 'boom [--now]', summary: 'go off', aliases: ['bang'] };
    expect((await run('--help')).out).toMatch(/ {2}boom \[--now\] +go off \(also: bang\)/);
    expect((await run('bang')).code).toBe(0);
  });
});

describe('the installed launcher', () => {
  it('bin/recoverability.js --version and a bad --mix through the real process', () => {
    const v = spawnSync(process.execPath, ['bin/recoverability.js', '--version'], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    for (const [mix, message] of [
      ['easy=1e308,beyond=1e308', /--mix: the weights are too large to add up \(their sum overflows\)/],
      ['easy=0.5,easy=0.5', /--mix: "easy" is given twice/],
    ] as const) {
      const r = spawnSync(process.execPath, ['bin/recoverability.js', 'validate', '--sim', '--mix', mix], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('the input a command reads, found before its module loads (to start its reader thread early)', () => {
  it('report: the first positional, stepping over every option\'s value (a journal named *.jsonl is not the input)', () => {
    expect(firstPositional(['out.jsonl'])).toBe('out.jsonl');
    expect(firstPositional(['--journal', 'probe.csv.journal.jsonl', '--out', 'dir', 'out.jsonl'])).toBe('out.jsonl');
    expect(firstPositional(['--format=json', '-h', 'out.jsonl'])).toBe('out.jsonl');
    expect(firstPositional(['--out', 'dir', '--', '-odd.jsonl'])).toBe('-odd.jsonl');
    expect(firstPositional(['--out', 'dir'])).toBeUndefined();
  });
});
