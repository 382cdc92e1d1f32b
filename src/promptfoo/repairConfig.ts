import { z } from 'zod';
import { OperatorNameSchema } from '../core/contracts/operators.js';
import { GraderSchema } from '../core/grading/graders.js';
import { OperatorSpecSchema } from '../interventions/operators.js';

/**
 * The RolloutProvider's `repair:` block. After a row's K rollouts, the provider grades them,
 * decides the row's route (a calibrated `policy`, or one fixed `route`), and for a row with a
 * failed rollout applies that operator to its failed rollouts, at most `budget` attempts in all,
 * stopping at the first success. Example:
 *   repair: { policy: policy.json, budget: 4, grader: { type: numeric, var: answer } }
 */
export const RepairConfigSchema = z
  .object({
    /**
     * policy.json from `recoverability calibrate` (relative to the config file): each row's route
     * is what `applyPolicy` decides — the same as the gradeRollouts assertion with this policy.
     */
    policy: z.string().min(1).optional(),
    /** One operator for every row with a failed rollout (e.g. `dense_steer`, `retry`), or `stop`. */
    route: OperatorNameSchema.optional(),
    /** Attempts per row, over all its failed rollouts together (round robin); ≥ 1. */
    budget: z.number().int().min(1).max(1000),
    /**
     * How the provider tells pass from fail (the same forms as gradeRollouts' `grader`; the
     * expected value comes from the test's vars). Give it the assertion's grader.
     */
    grader: GraderSchema.default({ type: 'equals', var: 'answer', caseSensitive: false }),
    /**
     * Operator specs for route names beyond the paper's five (retry, sparse_steer,
     * sparse_steer_random, local_temp, dense_steer), or to change theirs (matched by name), e.g.
     * `{kind: sparse_steer, geometry: m}` for the route `sparse_steer_m`.
     */
    operators: z.array(OperatorSpecSchema).default([]),
    /**
     * The row's promptfoo `output`: the original rollout (default), or the repaired text when a
     * repair rescued the row. Either way the repaired text is in the row's metadata.
     */
    output: z.enum(['original', 'repaired']).default('original'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.policy === undefined && c.route === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['policy'],
        message:
          'repair needs a route: `policy: policy.json` (learned from a probe of this model by `recoverability calibrate`) or a fixed `route: <operator>` (retry, sparse_steer, sparse_steer_random, local_temp, dense_steer, stop); the paper\'s rule is not used for repairs, being untested on your model',
      });
    }
    if (c.policy !== undefined && c.route !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['route'], message: 'give either `policy` or `route`, not both: a policy already decides each row\'s route' });
    }
  });
export type RepairConfig = z.output<typeof RepairConfigSchema>;
