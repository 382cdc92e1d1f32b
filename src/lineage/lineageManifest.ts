import { z } from 'zod';

/** Per model and chain length: the model card's pass rates (200 problems, 12 samples, T = 0.6). */
const EvalRowSchema = z.object({
  n_ops: z.number().int().positive(),
  mean_pass: z.number().min(0).max(1),
  all_fail: z.number().min(0).max(1),
  all_pass: z.number().min(0).max(1),
  partial: z.number().min(0).max(1),
});

/**
 * lineage.json: the tokenizer's vocabulary (id = index), the architecture, the model card's
 * evaluation table, and a logits probe (each model's float32 logits at the probe's last position).
 */
export const LineageManifestSchema = z.object({
  vocab: z.array(z.string()).min(3),
  config: z.object({
    d: z.number().int().positive().multipleOf(4),
    L: z.number().int().positive(),
    h: z.number().int().positive(),
    ctx: z.number().int().positive(),
    vocab: z.number().int().positive(),
  }),
  eval: z.record(z.string(), EvalRowSchema),
  probe: z.object({
    ids: z.array(z.number().int().nonnegative()).min(1),
    specialist_last_logits: z.array(z.number()),
    ancestor_last_logits: z.array(z.number()),
  }),
});
export type LineageManifest = z.output<typeof LineageManifestSchema>;
export type LineageConfig = LineageManifest['config'];
