import { z } from 'zod';

/**
 * Server-side sampling defaults, as vLLM takes them from a model's generation_config.json
 * (vllm/config/model.py, ModelConfig.get_diff_sampling_param): only repetition_penalty,
 * temperature, top_k, top_p, min_p and max_new_tokens (→ max_tokens) are used, and a request
 * field left out (or null) takes the default (completion/protocol.py, to_sampling_params:
 * "Priority: user -> server default -> OpenAI default").
 */
export interface GenerationDefaults {
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  repetition_penalty?: number;
  /** From max_new_tokens. */
  max_tokens?: number;
}

/** The fields of a Hugging Face generation_config.json that vLLM reads; everything else is ignored. */
export const GenerationConfigFileSchema = z.looseObject({
  temperature: z.number().nonnegative().optional(),
  top_k: z.number().int().optional(),
  top_p: z.number().optional(),
  min_p: z.number().nullable().optional(),
  repetition_penalty: z.number().optional(),
  max_new_tokens: z.number().int().positive().nullable().optional(),
});

/**
 * Hugging Face GenerationConfig's own defaults: vLLM reads the config through
 * `GenerationConfig.to_diff_dict()`, which drops values equal to these, so a file saying
 * `top_k: 50` leaves top-k off in vLLM.
 */
const HF_DEFAULTS = { temperature: 1, top_k: 50, top_p: 1, repetition_penalty: 1 } as const;

/** The defaults a generation_config.json gives vLLM, with the to_diff_dict quirk above. */
export function generationDefaults(file: z.input<typeof GenerationConfigFileSchema>): GenerationDefaults {
  const c = GenerationConfigFileSchema.parse(file);
  const out: GenerationDefaults = {};
  for (const key of ['temperature', 'top_k', 'top_p', 'repetition_penalty'] as const) {
    const v = c[key];
    if (v !== undefined && v !== HF_DEFAULTS[key]) out[key] = v;
  }
  if (c.min_p != null) out.min_p = c.min_p;
  if (c.max_new_tokens != null) out.max_tokens = c.max_new_tokens;
  return out;
}
