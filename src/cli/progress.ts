import cliProgress from 'cli-progress';

/** Where progress goes: a writable stream; `isTTY` decides whether it is shown unasked. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

export interface ProgressOptions {
  /** Default: process.stderr, so stdout stays clean for --json and pipes. */
  stream?: ProgressStream;
  /** Show progress even when the stream is not a terminal (the `--progress` flag): a line every `intervalMs`. */
  force?: boolean;
  /** Never show anything (the `--no-progress` flag); wins over `force`. */
  disable?: boolean;
  /** On a pipe (with `force`), one line this often; default 2000 ms. */
  intervalMs?: number;
}

export interface Progress {
  /** Whether anything is shown (a terminal, or forced). */
  readonly shown: boolean;
  /** n more units done (default 1). */
  tick(n?: number): void;
  /** Sets the count done, and the total when it changed (or became known); `stage` names the current stage. */
  update(done: number, total?: number, stage?: string): void;
  /** Stops the bar; with a summary, writes "<label>: <summary>" as one final line. Safe to call twice. */
  done(summary?: string): void;
}

/**
 * A progress bar (cli-progress) on stderr for long work. On a terminal it redraws in place and is
 * replaced by a one-line summary at the end; on a pipe it shows nothing unless forced
 * (`--progress`), then a plain line every couple of seconds and the summary. Always call
 * `done()` (in a finally): the bar's timer keeps the process alive until then.
 *
 * @example
 *   const bar = progress('probe', units, { force: values.progress });
 *   try { await work({ onProgress: (d, t) => bar.update(d, t) }); bar.done('320 units in 4.1 s'); } finally { bar.done(); }
 */
export function progress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const shown = !options.disable && (tty || options.force === true);
  if (!shown) return { shown, tick() {}, update() {}, done() {} };

  const bar = new cliProgress.SingleBar({
    stream: stream as NodeJS.WriteStream,
    format: `${label}{stage} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed, ETA {eta_formatted}`,
    noTTYOutput: !tty,
    notTTYSchedule: options.intervalMs ?? 2000,
    clearOnComplete: true, // on a pipe this only skips a blank line
    hideCursor: false,
    gracefulExit: false,
    etaBuffer: 50,
  });
  let value = 0;
  let size = total;
  let stage = '';
  let started = false;
  let finished = false;
  const payload = () => ({ stage: stage ? ` (${stage})` : '' });
  const ensureStarted = () => {
    if (started || finished) return;
    started = true;
    bar.start(Math.max(size, 1), value, payload());
  };
  if (size > 0) ensureStarted();

  return {
    shown,
    tick(n = 1) {
      value += n;
      ensureStarted();
      if (!finished) bar.update(value, payload());
    },
    update(done, newTotal, newStage) {
      if (newStage !== undefined && newStage !== stage) stage = newStage;
      if (newTotal !== undefined && newTotal !== size) {
        size = newTotal;
        if (started && !finished) bar.setTotal(Math.max(size, 1));
      }
      value = done;
      ensureStarted();
      if (!finished) bar.update(value, payload());
    },
    done(summary) {
      if (finished) return;
      finished = true;
      if (started) bar.stop();
      if (summary !== undefined) stream.write(`${label}: ${summary}\n`);
    },
  };
}
