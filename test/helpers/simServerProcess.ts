import { spawn, type ChildProcess } from 'node:child_process';

export interface ServeProcess {
  url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output: () => string;
  /** Stops it (SIGTERM unless told otherwise) and resolves with its exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Starts `recoverability <command> --port 0 …args` as a real process on a free loopback port. */
export async function startServeProcess(command: 'serve' | 'serve-sim', args: string[] = []): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, ['bin/recoverability.js', command, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}): ${out}`)));
  });
  return {
    url,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** Starts `recoverability serve-sim` (= serve --sim) as a real process on a free loopback port. */
export async function startServeSim(args: string[] = []): Promise<{ url: string; stop: () => Promise<void> }> {
  const p = await startServeProcess('serve-sim', args);
  return { url: p.url, stop: () => p.stop().then(() => undefined) };
}
