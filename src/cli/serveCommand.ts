import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type GenerationDefaults, GenerationConfigFileSchema, generationDefaults } from '../http/generationConfig.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http/requestLimits.js';
import { startVllmServer, type VllmServerHandle } from '../http/vllmServer.js';
import { loadArithLineage } from '../lineage/index.js';
import { InputError } from '../io/inputError.js';
import type { ServedModel } from '../models/servedModel.js';
import { LineageSimulator } from '../simulator/lineageSimulator.js';
import { simServedModels } from '../simulator/simServedModel.js';
import { intOption, mixOption } from './options.js';

export const SERVE_USAGE = `Usage: recoverability serve [--port 8000] [--host 127.0.0.1] [--max-logprobs 20] [--max-model-len N]
                            [--generation-config auto|vllm|PATH] [--max-body-bytes N] [--record-requests FILE]
                            [--sim [--seed S] [--mix easy=0.3,demoted=0.7]]

Serves the embedded real lineage (arith-specialist and arith-ancestor, max_model_len 128; with
--sim the planted simulator) in vLLM's OpenAI-compatible dialect, as vLLM really behaves: raw log-probs, at most
--max-logprobs per position, max_model_len enforced, vLLM's sampling fields and error bodies.
Endpoints: GET /health, /v1/models; POST /v1/completions, /v1/chat/completions, /tokenize,
/detokenize. Binds loopback by default; stops on Ctrl-C. "serve-sim" is "serve --sim".

  --sim                   serve the embedded simulator: sim-specialist and sim-ancestor
  --seed S                (--sim) world seed: which failure mechanism each prompt gets (default 0)
  --mix M                 (--sim) mix of mechanisms: easy, unlucky, demoted, deformed, temperature, beyond
  --port N                port (default 8000; 0 picks a free one)
  --host H                address to bind (default 127.0.0.1; 0.0.0.0 listens on every interface)
  --max-logprobs N        most log-probs per position a request may ask for (default 20, as vLLM)
  --max-model-len N       context length to enforce, at most the model's own (default the model's own)
  --generation-config G   sampling defaults for fields a request leaves out: "auto" (the model's own;
                          these models have none), "vllm" (none), or a generation_config.json file or
                          the folder holding one (temperature, top_k, top_p, min_p, repetition_penalty,
                          max_new_tokens), as vLLM reads it
  --max-body-bytes N      largest request body accepted (default ${DEFAULT_MAX_BODY_BYTES}); larger is a 413
  --record-requests FILE  append every request ({"method","path","body"}) to FILE as one JSON line`;

/**
 * The embedded default backend: the trained lineage (src/lineage), served without --sim. Until
 * that runtime is part of this build, say so and point at --sim.
 */
/** The embedded real lineage: `arith-specialist` and `arith-ancestor` (models/arith-lineage). */
async function defaultServedModels(): Promise<ServedModel[]> {
  const { specialist, ancestor } = loadArithLineage();
  return [specialist, ancestor];
}

export async function serveCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sim: { type: 'boolean', default: false },
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string' },
      mix: { type: 'string' },
      'max-logprobs': { type: 'string', default: '20' },
      'max-model-len': { type: 'string' },
      'generation-config': { type: 'string', default: 'auto' },
      'max-body-bytes': { type: 'string', default: String(DEFAULT_MAX_BODY_BYTES) },
      'record-requests': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(SERVE_USAGE);
    return 0;
  }
  if (values.host.trim() === '') {
    throw new InputError('--host is empty, which would listen on every interface; give an address: 127.0.0.1 (loopback, the default) or 0.0.0.0 to listen everywhere on purpose');
  }
  const port = intOption('--port', values.port, 0, 65535);
  const maxLogprobs = intOption('--max-logprobs', values['max-logprobs'], -1, 1_000_000);
  const maxModelLen = values['max-model-len'] === undefined ? undefined : intOption('--max-model-len', values['max-model-len'], 1);
  const maxBodyBytes = intOption('--max-body-bytes', values['max-body-bytes'], 1024);
  if (!values.sim && (values.seed !== undefined || values.mix !== undefined)) throw new InputError('--seed and --mix configure the simulator: add --sim');
  const seed = intOption('--seed', values.seed ?? '0');
  const mix = mixOption(values.mix);
  const models = values.sim ? simServedModels(new LineageSimulator({ seed, ...(mix ? { mix } : {}) })) : await defaultServedModels();
  for (const m of models) {
    if (maxModelLen !== undefined && maxModelLen > m.maxModelLen) {
      throw new InputError(`--max-model-len ${maxModelLen} is greater than ${m.id}'s maximum context length ${m.maxModelLen}; give at most ${m.maxModelLen}`);
    }
  }
  const generation = loadGenerationConfig(values['generation-config']);
  const recordTo = values['record-requests'];
  let handle: VllmServerHandle;
  try {
    handle = await startVllmServer({
      models,
      port,
      host: values.host,
      maxLogprobs,
      ...(maxModelLen !== undefined ? { maxModelLen } : {}),
      generationDefaults: generation.defaults,
      capMaxTokensByGenerationConfig: generation.fromFile,
      maxBodyBytes,
      seed,
      ...(recordTo ? { onRequest: (r) => appendFileSync(recordTo, `${JSON.stringify(r)}\n`) } : {}),
    });
  } catch (err) {
    throw new InputError(`cannot listen on ${values.host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lens = [...new Set(models.map((m) => Math.min(maxModelLen ?? m.maxModelLen, m.maxModelLen)))].join('/');
  out(
    `recoverability serve: listening on ${handle.url} (models: ${models.map((m) => m.id).join(', ')}; max_model_len ${lens}; max_logprobs ${maxLogprobs}` +
      `${values.sim ? `; seed ${seed}` : ''}${Object.keys(generation.defaults).length > 0 ? `; generation defaults ${JSON.stringify(generation.defaults)}` : ''})`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      out(`recoverability serve: ${signal}, shutting down`);
      void handle.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

/** `serve-sim` is `serve --sim`. */
export function serveSimCommand(argv: string[], out: (s: string) => void): Promise<number> {
  return serveCommand(['--sim', ...argv], out);
}

/**
 * --generation-config as vLLM reads it: "auto" (the model's own generation_config.json; the
 * served models here have none) and "vllm" give no defaults; anything else is a
 * generation_config.json file or a folder holding one.
 */
function loadGenerationConfig(source: string): { defaults: GenerationDefaults; fromFile: boolean } {
  if (source === 'auto' || source === 'vllm') return { defaults: {}, fromFile: false };
  let file = source;
  try {
    if (statSync(source).isDirectory()) file = join(source, 'generation_config.json');
  } catch {
    throw new InputError(`--generation-config: ${source} does not exist; give "auto", "vllm", a generation_config.json file, or the folder holding one`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`--generation-config: cannot read ${file} as JSON: ${(err as Error).message}`);
  }
  const parsed = GenerationConfigFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`--generation-config: ${file}: at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { defaults: generationDefaults(parsed.data), fromFile: true };
}
