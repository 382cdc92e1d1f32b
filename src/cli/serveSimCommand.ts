import { parseArgs } from 'node:util';
import { startSimServer } from '../http/simServer.js';
import { InputError } from '../io/inputError.js';
import { LineageSimulator } from '../simulator/lineageSimulator.js';
import { intOption, mixOption } from './options.js';

export const SERVE_SIM_USAGE = `Usage: recoverability serve-sim [--port N] [--host 127.0.0.1] [--seed S] [--mix easy=0.3,demoted=0.7]

Serves the embedded lineage simulator in vLLM's OpenAI-compatible dialect, with two models:
sim-specialist and sim-ancestor. Endpoints: GET /v1/models, /health; POST /v1/completions,
/v1/chat/completions, /tokenize, /detokenize. Binds loopback by default; stops on Ctrl-C.

  --port N      port (default 8000; 0 picks a free one)
  --host H      address to bind (default 127.0.0.1)
  --seed S      world seed: which failure mechanism each prompt gets (default 0)
  --mix M       population mix of mechanisms: easy, unlucky, demoted, deformed, temperature, beyond`;

export async function serveSimCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string', default: '0' },
      mix: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(SERVE_SIM_USAGE);
    return 0;
  }
  const port = intOption('--port', values.port, 0, 65535);
  const seed = intOption('--seed', values.seed);
  const mix = mixOption(values.mix);
  const simulator = new LineageSimulator({ seed, ...(mix ? { mix } : {}) });
  let server;
  try {
    server = await startSimServer({ port, host: values.host, simulator });
  } catch (err) {
    throw new InputError(`cannot listen on ${values.host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  out(`recoverability serve-sim: listening on ${server.url} (models: sim-specialist, sim-ancestor; seed ${seed})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      out(`recoverability serve-sim: ${signal}, shutting down`);
      server.server.closeAllConnections();
      void server.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
