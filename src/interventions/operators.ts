import { z } from 'zod';

/**
 * An intervention, as data. Its `name` is the rescue-rate column it fills (snake_case).
 * - retry: a fresh sample of S at T (rank-preserving).
 * - temperature: a fresh sample at another global temperature (rank-preserving).
 * - local_temp: at the junction, one token at T_local, then S at T. With several attempts the
 *   k-th uses tLocal[k mod n] (ref {1.0, 1.5, 2.0}).
 * - sparse_steer: at the junction (or a random position: the position control), the argmax of
 *   the S/A mix in the given geometry, then S.
 * - dense_steer: decode from the prompt with the S/A mix at every position.
 */
export const OperatorSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('retry'), name: z.string().default('retry') }),
  z.object({ kind: z.literal('temperature'), value: z.number().positive(), name: z.string().optional() }),
  z.object({ kind: z.literal('local_temp'), tLocal: z.array(z.number().positive()).min(1).default([1.0, 1.5, 2.0]), name: z.string().default('local_temp') }),
  z.object({
    kind: z.literal('sparse_steer'),
    geometry: z.enum(['e', 'm']).default('e'),
    position: z.enum(['junction', 'random']).default('junction'),
    name: z.string().optional(),
  }),
  z.object({ kind: z.literal('dense_steer'), geometry: z.enum(['e', 'm']).default('e'), name: z.string().default('dense_steer') }),
]);
export type OperatorSpec = z.output<typeof OperatorSpecSchema>;

/** The rescue column an operator fills. */
export function operatorName(op: OperatorSpec): string {
  if (op.name) return op.name;
  switch (op.kind) {
    case 'temperature':
      return `temperature_${String(op.value).replace('.', 'p')}`;
    case 'sparse_steer':
      return `sparse_steer${op.position === 'random' ? '_random' : ''}${op.geometry === 'm' ? '_m' : ''}`;
    default:
      return op.kind;
  }
}

/** The paper's five operators, in its table's order. */
export const PAPER_OPERATOR_SPECS: OperatorSpec[] = [
  { kind: 'retry', name: 'retry' },
  { kind: 'sparse_steer', geometry: 'e', position: 'junction' },
  { kind: 'sparse_steer', geometry: 'e', position: 'random' },
  { kind: 'local_temp', tLocal: [1.0, 1.5, 2.0], name: 'local_temp' },
  { kind: 'dense_steer', geometry: 'e', name: 'dense_steer' },
];
