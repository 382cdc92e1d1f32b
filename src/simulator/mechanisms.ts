import { z } from 'zod';
import { seededRandom, seedOf } from '../core/random/seededRandom.js';

/**
 * How a simulated problem fails (or not). Planted per problem; never shown to users — only
 * `LineageSimulator.groundTruth` reveals it, for validation tests.
 */
export const MECHANISMS = ['easy', 'unlucky', 'demoted', 'deformed', 'temperature', 'beyond'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

const MIX_EXAMPLE = 'e.g. easy=0.3,demoted=0.7';

/** The mix written as text, "easy=0.3,demoted=0.7" (as on the CLI), read into an object; bad parts are zod issues. */
function mixFromText(text: string, ctx: z.core.$RefinementCtx): Record<string, number> {
  const mix = new Map<string, number>();
  for (const part of text.split(',')) {
    const [name, weight, extra] = part.split('=').map((s) => s.trim());
    if (!name || weight === undefined || weight === '' || extra !== undefined || !Number.isFinite(Number(weight))) {
      ctx.addIssue({ code: 'custom', message: `"${part.trim()}" is not name=weight; ${MIX_EXAMPLE} (names: ${MECHANISMS.join(', ')})`, input: text });
      continue;
    }
    if (!(MECHANISMS as readonly string[]).includes(name)) {
      ctx.addIssue({ code: 'custom', message: `unknown mechanism "${name}" (names: ${MECHANISMS.join(', ')})`, input: text });
      continue;
    }
    if (mix.has(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is given twice; give each mechanism once (names: ${MECHANISMS.join(', ')})`, input: text });
    mix.set(name, Number(weight));
  }
  return Object.fromEntries(mix);
}

const onlyIfValid = (payload: { issues: readonly unknown[] }) => payload.issues.length === 0;

/**
 * The population mix of failure mechanisms: relative, non-negative weights (they need not sum to
 * 1), as an object `{easy: 0.3, demoted: 0.7}` or the CLI's string "easy=0.3,demoted=0.7".
 */
export const MixSchema = z
  .preprocess(
    (value, ctx) => (typeof value === 'string' ? mixFromText(value, ctx) : value),
    z.partialRecord(z.enum(MECHANISMS), z.number({ error: 'a weight is a number' }).nonnegative('a weight is 0 or more'), {
      // zod reports extra keys of a partial record as unrecognized_keys (its types list fewer codes)
      error: (issue) => {
        const extra = issue as { code?: string; keys?: string[] };
        return extra.code === 'unrecognized_keys' ? `unknown mechanism ${(extra.keys ?? []).map((k) => `"${k}"`).join(', ')}` : undefined;
      },
    }),
  )
  .refine((m) => Object.values(m).some((v) => (v ?? 0) > 0), { message: 'the mix needs at least one positive weight', when: onlyIfValid })
  .refine((m) => Number.isFinite(Object.values(m).reduce<number>((a, b) => a + (b ?? 0), 0)), {
    message: `the weights are too large to add up (their sum overflows); use relative weights, ${MIX_EXAMPLE}`,
    when: onlyIfValid,
  });
export type Mix = z.output<typeof MixSchema>;

/** Default population: a quarter solved, the rest spread over the five failure mechanisms. */
export const DEFAULT_MIX: Mix = { easy: 0.25, unlucky: 0.2, demoted: 0.2, deformed: 0.1, temperature: 0.1, beyond: 0.15 };

/** Parses the --mix flag, "easy=0.3,demoted=0.7"; an Error whose message starts with "--mix:" says what is wrong. */
export function parseMix(text: string): Mix {
  const parsed = MixSchema.safeParse(text);
  if (!parsed.success) {
    const issues = [...new Set(parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)))];
    const names = issues.some((i) => i.includes('names:')) ? '' : ` (names: ${MECHANISMS.join(', ')})`;
    throw new Error(`--mix: ${issues.join('; ')}${names}`);
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
