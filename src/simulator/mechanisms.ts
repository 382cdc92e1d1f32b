import { z } from 'zod';
import { seededRandom, seedOf } from '../core/random/seededRandom.js';

/**
 * How a simulated problem fails (or not). Planted per problem; never shown to users — only
 * `LineageSimulator.groundTruth` reveals it, for validation tests.
 */
export const MECHANISMS = ['easy', 'unlucky', 'demoted', 'deformed', 'temperature', 'beyond'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

export const MixSchema = z
  .partialRecord(z.enum(MECHANISMS), z.number().nonnegative())
  .refine((m) => Object.values(m).some((v) => (v ?? 0) > 0), { message: 'the mix needs at least one positive weight' });
export type Mix = z.infer<typeof MixSchema>;

/** Default population: a quarter solved, the rest spread over the five failure mechanisms. */
export const DEFAULT_MIX: Mix = { easy: 0.25, unlucky: 0.2, demoted: 0.2, deformed: 0.1, temperature: 0.1, beyond: 0.15 };

/** Parses "easy=0.3,demoted=0.7" (weights need not sum to 1). */
export function parseMix(text: string): Mix {
  const entries = text.split(',').map((part) => {
    const [name, weight] = part.split('=').map((s) => s.trim());
    if (!name || weight === undefined || weight === '' || !Number.isFinite(Number(weight))) {
      throw new Error(`--mix: "${part}" is not name=weight; e.g. --mix easy=0.3,demoted=0.7 (names: ${MECHANISMS.join(', ')})`);
    }
    return [name, Number(weight)] as const;
  });
  const parsed = MixSchema.safeParse(Object.fromEntries(entries));
  if (!parsed.success) {
    throw new Error(`--mix: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'mix'}: ${i.message}`).join('; ')} (names: ${MECHANISMS.join(', ')})`);
  }
  return parsed.data;
}

/** The planted parameters of one problem. Every number is drawn per problem, so regimes overlap. */
export interface Plant {
  mechanism: Mechanism;
  /** The step whose decision carries the mechanism (demoted, temperature, beyond). */
  junctionStep: number;
  /** Steps with a close call (unlucky) or a mild demotion (deformed). */
  affectedSteps: number[];
  /** Logit gap of the right answer behind (positive) or ahead of (negative) the wrong mode in S. */
  gap: number;
  /** How strongly the ancestor rejects the wrong mode. */
  ancestorRejection: number;
  /** How far the ancestor's style preferences drift from the specialist's. */
  styleDrift: number;
  /** Per-problem noise scale between S and A on non-decision positions. */
  noise: number;
}

export function plantMechanism(problemSeed: number, steps: number, mix: Mix): Plant {
  const r = seededRandom(seedOf('plant', problemSeed));
  const weights = MECHANISMS.map((m) => mix[m] ?? 0);
  const total = weights.reduce((a, b) => a + b, 0);
  let u = r.uniform() * total;
  let mechanism: Mechanism = 'easy';
  for (let i = 0; i < MECHANISMS.length; i++) {
    u -= weights[i]!;
    if (u < 0) {
      mechanism = MECHANISMS[i]!;
      break;
    }
  }
  const pick = () => Math.floor(r.uniform() * steps);
  const junctionStep = pick();
  const second = pick();
  const noise = r.between(0.05, 0.35);
  switch (mechanism) {
    case 'easy':
      return { mechanism, junctionStep, affectedSteps: [], gap: -r.between(5, 7), ancestorRejection: r.between(5, 7), styleDrift: noise, noise };
    case 'unlucky':
      return {
        mechanism,
        junctionStep,
        affectedSteps: [...new Set([junctionStep, second])],
        gap: -r.between(0.25, 0.8),
        ancestorRejection: 0,
        styleDrift: noise,
        noise,
      };
    case 'demoted':
      return { mechanism, junctionStep, affectedSteps: [junctionStep], gap: r.between(0.9, 1.6), ancestorRejection: r.between(4, 7), styleDrift: noise, noise };
    case 'deformed':
      return {
        mechanism,
        junctionStep,
        affectedSteps: Array.from({ length: steps }, (_, i) => i),
        gap: r.between(0.15, 0.5),
        ancestorRejection: r.between(3, 5),
        styleDrift: r.between(0.8, 1.6),
        noise,
      };
    case 'temperature':
      return { mechanism, junctionStep, affectedSteps: [junctionStep], gap: r.between(1.3, 1.9), ancestorRejection: r.between(0.5, 1.2), styleDrift: noise, noise };
    case 'beyond':
      return { mechanism, junctionStep, affectedSteps: [junctionStep], gap: Infinity, ancestorRejection: 0, styleDrift: noise, noise };
  }
}
