import { LineageSimulator } from '../simulator/lineageSimulator.js';
import { SIM_MODEL_IDS, simServedModels } from '../simulator/simServedModel.js';
import { startVllmServer, type VllmServerHandle, type VllmServerOptions } from './vllmServer.js';

export const SPECIALIST_MODEL = SIM_MODEL_IDS.specialist;
export const ANCESTOR_MODEL = SIM_MODEL_IDS.ancestor;

/**
 * Starts `recoverability serve --sim` in-process: the simulator's pair served by the generic
 * vLLM-dialect server on loopback (a free port unless `port` is given). Resolves with its URL
 * (…/v1) and a close function. Other server options (max_logprobs, generation-config defaults,
 * a request recorder …) pass through.
 */
export async function startSimServer(
  options: { port?: number; host?: string; simulator?: LineageSimulator } & Omit<Partial<VllmServerOptions>, 'models'> = {},
): Promise<VllmServerHandle> {
  const { simulator, ...rest } = options;
  const sim = simulator ?? new LineageSimulator();
  return startVllmServer({ seed: sim.seed, ...rest, models: simServedModels(sim) });
}
