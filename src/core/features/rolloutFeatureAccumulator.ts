import { DEFAULTS } from '../defaults.js';
import type { RolloutSummary } from '../contracts/rollout.js';
import { type SliceView, type StepInput, TokenSignalComputer, tokenSignalDefaults, type TokenSignalOptions, type TokenSignals } from '../tokens/tokenSignals.js';
import { checkFlatTrace, type FlatTrace } from './flatTrace.js';
import { RingBuffer } from './ringBuffer.js';

export interface RolloutFeatureOptions extends TokenSignalOptions {
  /** Junction half-window w: logit dispersion averages logit_var over paired positions [j*−w, j*+w]. */
  junctionWindow: number;
  /** Sliding window (positions) of the lowest-window confidence signal. */
  confidenceWindow: number;
  /** Floor under a mean variance or max J before log10. */
  logFloor: number;
}

export function rolloutFeatureDefaults(): RolloutFeatureOptions {
  return {
    ...tokenSignalDefaults(),
    junctionWindow: DEFAULTS.junctionWindow,
    confidenceWindow: DEFAULTS.confidenceWindow,
    logFloor: DEFAULTS.logFloor,
  };
}

/**
 * One pass over a rollout's token steps → its RolloutSummary, with O(K + w + W) memory: the
 * steps are not kept. Positions without specialist scores are skipped (this trims trailing
 * padding, as the reference does); positions without ancestor scores count only for the
 * specialist-only signals.
 *
 * Per rollout (method.md): spread = #{t: J_t > 0} / n; concentration = log10(max J / max(mean J, ε));
 * logit dispersion = log10(mean logit_var over [j*−w, j*+w]), j* = first argmax of J, the
 * window clipped to the trace and counted in paired positions. Where the reference would take
 * log10(0) (a trace with J ≡ 0, or a one-token top-K) we floor the argument at `logFloor` (ours).
 *
 * The junction window is kept online: a ring of the last w logit variances seeds the window
 * when a new maximum of J appears, and the next w positions complete it.
 */
export class RolloutFeatureAccumulator {
  private readonly opts: RolloutFeatureOptions;
  private readonly signals: TokenSignalComputer;
  private readonly sView: SliceView = { ids: new Int32Array(0), logprobs: new Float64Array(0), ranks: null, start: 0, length: 0 };
  private readonly aView: SliceView = { ids: new Int32Array(0), logprobs: new Float64Array(0), ranks: null, start: 0, length: 0 };

  private position = 0;
  private scored = 0;
  private paired = 0;
  private skipped = 0;

  private sumJ = 0;
  private positiveJ = 0;
  private sumDelta = 0;
  private sumGcov = 0;
  private sumKl = 0;
  private maxJ = -Infinity;
  private junctionPosition: number | null = null;

  private readonly recentVar: RingBuffer;
  private junctionVarSum = 0;
  private junctionVarCount = 0;
  private junctionPending = 0;

  private sumEntropy = 0;
  private sumLogprob = 0;
  private readonly confWindow: RingBuffer;
  private readonly confVarWindow: RingBuffer;
  private minWindowConfidence = Infinity;
  private varAtMinConfidence = NaN;

  constructor(options: Partial<RolloutFeatureOptions> = {}) {
    this.opts = { ...rolloutFeatureDefaults(), ...options };
    const { junctionWindow, confidenceWindow } = this.opts;
    if (!Number.isInteger(junctionWindow) || junctionWindow < 0) {
      throw new RangeError(`junctionWindow must be a whole number ≥ 0, got ${junctionWindow}`);
    }
    if (!Number.isInteger(confidenceWindow) || confidenceWindow < 1) {
      throw new RangeError(`confidenceWindow must be a whole number ≥ 1, got ${confidenceWindow}`);
    }
    this.signals = new TokenSignalComputer(this.opts);
    this.recentVar = new RingBuffer(junctionWindow);
    this.confWindow = new RingBuffer(confidenceWindow);
    this.confVarWindow = new RingBuffer(confidenceWindow);
  }

  /** Starts a new rollout, keeping the options and the scratch space. */
  reset(): this {
    this.position = this.scored = this.paired = this.skipped = 0;
    this.sumJ = this.positiveJ = this.sumDelta = this.sumGcov = this.sumKl = 0;
    this.maxJ = -Infinity;
    this.junctionPosition = null;
    this.recentVar.clear();
    this.junctionVarSum = this.junctionVarCount = this.junctionPending = 0;
    this.sumEntropy = this.sumLogprob = 0;
    this.confWindow.clear();
    this.confVarWindow.clear();
    this.minWindowConfidence = Infinity;
    this.varAtMinConfidence = NaN;
    return this;
  }

  /**
   * Adds positions [from, to) of a flat trace (flatTrace.ts), read in place: no object per
   * position. Positions without specialist entries are skipped as padding.
   */
  pushFlat(trace: FlatTrace, from = 0, to = trace.tokens.length): this {
    const n = checkFlatTrace(trace);
    if (!(from >= 0 && to <= n && from <= to)) throw new RangeError(`positions [${from}, ${to}) are outside the trace's ${n} positions`);
    const { specialist: sf, ancestor: af, tokens } = trace;
    const s = this.sView;
    const a = this.aView;
    s.ids = sf.ids;
    s.logprobs = sf.logprobs;
    s.ranks = sf.ranks ?? null;
    if (af) {
      a.ids = af.ids;
      a.logprobs = af.logprobs;
      a.ranks = af.ranks ?? null;
    }
    const so = sf.offsets;
    const ao = af?.offsets;
    const room = this.signals.stageEntries;
    for (let t0 = from; t0 < to; ) {
      // A block of positions whose entries are staged at once (WebAssembly), so no slice is copied alone.
      let t1 = t0 + 1;
      if (room > 0) {
        while (t1 < to && so[t1 + 1]! - so[t0]! <= room && (!ao || ao[t1 + 1]! - ao[t0]! <= room)) t1++;
        this.signals.stage(s, so[t0]!, so[t1]!, ao ? a : null, ao ? ao[t0]! : 0, ao ? ao[t1]! : 0);
      }
      try {
        for (let t = t0; t < t1; t++) {
          s.start = so[t]!;
          s.length = so[t + 1]! - s.start;
          if (s.length === 0) {
            this.pushSignals(null);
            continue;
          }
          let ancestor: typeof a | null = null;
          if (ao) {
            a.start = ao[t]!;
            a.length = ao[t + 1]! - a.start;
            if (a.length > 0) ancestor = a;
          }
          this.pushSignals(this.signals.computeAt(s, ancestor, tokens[t]!, this.position));
        }
      } finally {
        if (room > 0) this.signals.unstage();
      }
      t0 = t1;
    }
    return this;
  }

  /** Adds the next position of the rollout. */
  push(step: StepInput): this {
    if (step.specialist.ids.length === 0) return this.pushSignals(null);
    return this.pushSignals(this.signals.compute(step, this.position, false));
  }

  /**
   * Adds the next position from signals computed elsewhere (with the same options), or null for
   * a position without specialist scores (skipped, as padding).
   */
  pushSignals(sig: TokenSignals | null): this {
    const position = this.position++;
    if (sig === null) {
      this.skipped++;
      return this;
    }
    this.scored++;
    this.sumEntropy += sig.entropy;
    this.sumLogprob += sig.takenLogprob;
    this.pushConfidence(sig.confidence, sig.logitVar);
    if (sig.paired) this.pushPaired(sig.j, sig.deltaPath, sig.gcov, sig.kl, sig.logitVar, position);
    return this;
  }

  private pushPaired(j: number, delta: number, gcov: number, kl: number, logitVar: number, position: number): void {
    this.paired++;
    this.sumJ += j;
    if (j > 0) this.positiveJ++;
    this.sumDelta += delta;
    this.sumGcov += gcov;
    this.sumKl += kl;
    if (j > this.maxJ) {
      // New junction: the window restarts from the last w variances and this one.
      this.maxJ = j;
      this.junctionPosition = position;
      this.junctionVarSum = this.recentVar.sum() + logitVar;
      this.junctionVarCount = this.recentVar.size + 1;
      this.junctionPending = this.opts.junctionWindow;
    } else if (this.junctionPending > 0) {
      this.junctionVarSum += logitVar;
      this.junctionVarCount++;
      this.junctionPending--;
    }
    this.recentVar.push(logitVar);
  }

  private pushConfidence(confidence: number, logitVar: number): void {
    this.confWindow.push(confidence);
    this.confVarWindow.push(logitVar);
    if (this.confWindow.isFull()) this.considerConfidenceWindow();
  }

  private considerConfidenceWindow(): void {
    const mean = this.confWindow.sum() / this.confWindow.size;
    if (mean < this.minWindowConfidence) {
      this.minWindowConfidence = mean;
      this.varAtMinConfidence = this.confVarWindow.sum() / this.confVarWindow.size;
    }
  }

  /** The summary of everything pushed so far. */
  finish(): RolloutSummary {
    const { logFloor, epsilon } = this.opts;
    // A trace shorter than the confidence window is one window.
    if (this.scored > 0 && !this.confWindow.isFull()) this.considerConfidenceWindow();
    const hasPairs = this.paired > 0;
    const meanJ = hasPairs ? this.sumJ / this.paired : null;
    const log10Floored = (x: number) => Math.log10(Math.max(x, logFloor));
    return {
      scoredPositions: this.scored,
      pairedPositions: this.paired,
      skippedPositions: this.skipped,
      junction: hasPairs ? this.junctionPosition : null,
      maxJ: hasPairs ? this.maxJ : null,
      meanJ,
      spread: hasPairs ? this.positiveJ / this.paired : null,
      concentration: hasPairs ? log10Floored(this.maxJ) - Math.log10(Math.max(meanJ!, epsilon)) : null,
      logitDispersion: hasPairs ? log10Floored(this.junctionVarSum / this.junctionVarCount) : null,
      meanDeltaPath: hasPairs ? this.sumDelta / this.paired : null,
      meanGcov: hasPairs ? this.sumGcov / this.paired : null,
      meanKl: hasPairs ? this.sumKl / this.paired : null,
      meanEntropy: this.scored > 0 ? this.sumEntropy / this.scored : null,
      meanLogprob: this.scored > 0 ? this.sumLogprob / this.scored : null,
      minWindowConfidence: this.scored > 0 ? this.minWindowConfidence : null,
      dispersionAtMinConfidence: this.scored > 0 ? log10Floored(this.varAtMinConfidence) : null,
    };
  }
}

/** The summary of a rollout given as a flat trace (flatTrace.ts). */
export function summarizeFlatTrace(trace: FlatTrace, options: Partial<RolloutFeatureOptions> = {}): RolloutSummary {
  return new RolloutFeatureAccumulator(options).pushFlat(trace).finish();
}

/** Convenience: the summary of a whole sequence (array or any iterable, e.g. a stream reader). */
export function summarizeRollout(steps: Iterable<StepInput>, options: Partial<RolloutFeatureOptions> = {}): RolloutSummary {
  const acc = new RolloutFeatureAccumulator(options);
  for (const step of steps) acc.push(step);
  return acc.finish();
}
