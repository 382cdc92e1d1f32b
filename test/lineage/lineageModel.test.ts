import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ContextLengthError, loadArithLineage, type LineageModel } from '../../src/lineage/index.js';
import { logSoftmax } from '../../src/lineage/distribution.js';

const lineage = loadArithLineage();
const { specialist, ancestor, manifest } = lineage;
const models: [string, LineageModel][] = [
  ['specialist', specialist],
  ['ancestor', ancestor],
];
const PROMPT = specialist.encode('Q: 23+45*3-12=\n', true);
const SAMPLE = { temperature: 0.6, maxTokens: 60, topK: 5 };

/** A no-cache reference: the distribution after `prefix` from a full prefill of it alone. */
const fresh = (m: LineageModel, prefix: readonly number[]) => logSoftmax(m.logitsAfter(prefix), 0, 28);

describe('the arith lineage forward pass', () => {
  it.each(models)('%s: the probe logits match lineage.json within 1e-3', (name, m) => {
    const want = name === 'specialist' ? manifest.probe.specialist_last_logits : manifest.probe.ancestor_last_logits;
    const got = Array.from(m.logitsAfter(manifest.probe.ids));
    expect(got).toHaveLength(28);
    const worst = Math.max(...got.map((z, i) => Math.abs(z - want[i]!)));
    expect(worst).toBeLessThan(1e-3);
  });

  it.each(models)('%s: logits along a full 128-token sequence match an independent float64 forward (fixtures/reference_forward.py) within 1e-3', (name, m) => {
    const ref = JSON.parse(readFileSync(new URL('./fixtures/long-sequence.json', import.meta.url), 'utf8')) as { ids: number[]; positions: number[] } & Record<string, number[][]>;
    expect(ref.ids).toHaveLength(128);
    const dists = m.scorePrompt(ref.ids);
    ref.positions.forEach((p, r) => {
      const want = ref[name]![r]!;
      const got = Array.from(m.logitsAfter(ref.ids.slice(0, p + 1)));
      expect(Math.max(...got.map((z, i) => Math.abs(z - want[i]!)))).toBeLessThan(1e-3);
      if (p < 127) expect(dists[p]).toEqual(logSoftmax(got, 0, 28)); // the cached scoring path agrees bit for bit
    });
  });

  it.each(models)('%s: KV-cache decode equals a no-cache full recompute at every step, bit for bit', (_, m) => {
    const session = m.startDecode(PROMPT, 1);
    const seq = [...PROMPT];
    for (let step = 0; step < 40; step++) {
      const [dist] = session.next();
      expect(dist).toEqual(fresh(m, seq));
      const token = dist!.ids[step % 3]!; // not always the argmax: off-distribution prefixes too
      if (token === m.eosId) break;
      session.push([token]);
      seq.push(token);
    }
    session.close();
  });

  it.each(models)('%s: batched decode equals one-at-a-time decode, bit for bit', (_, m) => {
    const n = 5;
    const batch = m.startDecode(PROMPT, n);
    const singles = Array.from({ length: n }, () => m.startDecode(PROMPT, 1));
    for (let step = 0; step < 25; step++) {
      const dists = batch.next();
      const tokens = dists.map((d, i) => d.ids[(i + step) % 4]!);
      singles.forEach((s, i) => {
        expect(s.next()[0]).toEqual(dists[i]);
        s.push([tokens[i]!]);
      });
      batch.push(tokens);
    }
    batch.close();
    singles.forEach((s) => s.close());
  });

  it('sequences that drew the same tokens share one row per step until they differ', () => {
    const m = specialist;
    const n = 6;
    const batch = m.startDecode(PROMPT, n);
    const histories = Array.from({ length: n }, () => '');
    const seen: { dists: Map<number, unknown>; tokens: Map<number, number> }[] = [];
    for (let step = 0; step < 12; step++) {
      const before = m.work.rows;
      const dists = batch.next();
      // one row per distinct history (the prompt's prefill at step 0)
      expect(m.work.rows - before).toBe(step === 0 ? 0 : new Set(batch.active.map((i) => histories[i])).size);
      // all together for 4 steps, then by parity, then by index mod 4; sequence 5 stops at step 8
      if (step === 8) batch.finish(5);
      const pick = (i: number) => (step < 4 ? 0 : step < 8 ? i % 2 : i % 4);
      const record = { dists: new Map<number, unknown>(), tokens: new Map<number, number>() };
      dists.forEach((d, j) => {
        const i = [...batch.active, 5][j]!; // sequence 5 was last in active before it finished
        record.dists.set(i, d);
        if (!batch.active.includes(i)) return;
        record.tokens.set(i, d.ids[pick(i)]!);
        histories[i] += `${d.ids[pick(i)]},`;
      });
      seen.push(record);
      batch.push(batch.active.map((i) => record.tokens.get(i)!));
    }
    batch.close();
    // each sequence alone gives the same distributions
    for (let i = 0; i < n; i++) {
      const single = m.startDecode(PROMPT, 1);
      for (const record of seen) {
        if (!record.dists.has(i)) break;
        expect(single.next()[0]).toEqual(record.dists.get(i));
        if (!record.tokens.has(i)) break;
        single.push([record.tokens.get(i)!]);
      }
      single.close();
    }
  });

  it('scorePrompt: one full canonical distribution per prefix ids[0..p), p = 1 … n − 1', () => {
    const ids = specialist.encode('Q: 2+3=\n2+3=5;Answer: 5\n', true);
    const dists = specialist.scorePrompt(ids);
    expect(dists).toHaveLength(ids.length - 1);
    dists.forEach((d, p) => {
      expect(d).toEqual(fresh(specialist, ids.slice(0, p + 1)));
      expect([...d.ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 28 }, (_, i) => i));
      expect(Array.from(d.logprobs).reduce((s, lp) => s + Math.exp(lp), 0)).toBeCloseTo(1, 12);
      for (let i = 1; i < 28; i++) {
        const [a, b] = [d.logprobs[i - 1]!, d.logprobs[i]!];
        expect(a > b || (a === b && d.ids[i - 1]! < d.ids[i]!)).toBe(true);
      }
    });
    expect(specialist.scorePrompt([1])).toEqual([]);
  });
});

describe('sampling (TokenModel)', () => {
  it('is deterministic for a seed, and sample i of n equals a single sample with seed + i', async () => {
    const a = await specialist.sample(PROMPT, { ...SAMPLE, n: 6, seed: 41 });
    const b = await specialist.sample(PROMPT, { ...SAMPLE, n: 6, seed: 41 });
    expect(b).toEqual(a);
    for (const i of [0, 3, 5]) {
      const [single] = await specialist.sample(PROMPT, { ...SAMPLE, n: 1, seed: 41 + i });
      expect(single).toEqual(a[i]);
    }
    // the six seeds do not all give the same sample at T = 0.6 on a 2-operation problem (26% pass)
    const short = specialist.encode('Q: 57-8*3=\n', true);
    const many = await specialist.sample(short, { ...SAMPLE, n: 12, seed: 3 });
    expect(new Set(many.map((g) => g.text)).size).toBeGreaterThan(1);
  });

  it('yields to the event loop between steps', async () => {
    let ticks = 0;
    let spinning = true;
    const spin = () => {
      ticks++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const [g] = await specialist.sample(PROMPT, { ...SAMPLE, seed: 2 });
    spinning = false;
    expect(g!.tokens.length).toBeGreaterThan(20);
    expect(ticks).toBeGreaterThanOrEqual(g!.tokens.length - 1);
  });

  it('T = 0 is greedy: every token is the argmax of its position', async () => {
    const [g] = await ancestor.sample(PROMPT, { ...SAMPLE, temperature: 0, seed: 0 });
    const dists = ancestor.scorePrompt([...PROMPT, ...g!.tokens]).slice(PROMPT.length - 1);
    g!.tokens.forEach((token, t) => expect(token).toBe(dists[t]!.ids[0]));
    const [again] = await ancestor.sample(PROMPT, { ...SAMPLE, temperature: 0, seed: 999 });
    expect(again!.tokens).toEqual(g!.tokens);
  });

  it("returns each position's raw top-K plus the sampled token, text without <eos>, and the finish reason", async () => {
    const gens = await specialist.sample(PROMPT, { ...SAMPLE, n: 8, seed: 5, topK: 1 });
    for (const g of gens) {
      expect(g.topK).toHaveLength(g.tokens.length);
      const dists = specialist.scorePrompt([...PROMPT, ...g.tokens]).slice(PROMPT.length - 1);
      g.tokens.forEach((token, t) => {
        const slice = g.topK[t]!;
        const d = dists[t]!;
        expect(slice.ids[0]).toBe(d.ids[0]);
        expect(slice.logprobs[0]).toBe(d.logprobs[0]);
        const at = Array.from(slice.ids).indexOf(token);
        expect(at).toBeGreaterThanOrEqual(0);
        expect(slice.logprobs[at]).toBe(d.logprobs[d.ids.indexOf(token)]);
        expect(slice.ids).toHaveLength(token === d.ids[0] ? 1 : 2);
      });
      if (g.finishReason === 'stop') expect(g.tokens.at(-1)).toBe(2);
      else expect(g.tokens).toHaveLength(SAMPLE.maxTokens);
      expect(g.text).toBe(specialist.decode(g.tokens));
      expect(g.text).not.toContain('<eos>');
    }
    expect(gens.some((g) => g.finishReason === 'stop')).toBe(true);
    const [cut] = await specialist.sample(PROMPT, { ...SAMPLE, seed: 5, maxTokens: 7 });
    expect(cut!.finishReason).toBe('length');
    expect(cut!.tokens).toHaveLength(7);
  });

  it('holds no KV slot once sampling or a session is over, beyond its cache of scored sequences', async () => {
    specialist.clearPrefixCache();
    const before = specialist.kvSlotsInUse;
    await specialist.sample(PROMPT, { ...SAMPLE, n: 7, seed: 1 });
    await specialist.score(PROMPT, [4, 5], 3);
    const s = specialist.startDecode(PROMPT, 3);
    s.next();
    s.push([4, 5, 6]);
    s.finish(1);
    expect(s.active).toEqual([0, 2]);
    expect(s.next()).toHaveLength(2);
    s.finish(0);
    s.finish(2);
    expect(specialist.kvSlotsInUse).toBe(before + 1); // the scored sequence, kept for reuse
    specialist.clearPrefixCache();
    expect(specialist.kvSlotsInUse).toBe(before);
    await expect(specialist.sample(PROMPT, { ...SAMPLE, seed: 1, temperature: -1 })).rejects.toThrow(/temperature/);
    const dropped = specialist.startDecode(PROMPT, 2);
    dropped.close();
    expect(specialist.kvSlotsInUse).toBe(before);
  });
});

describe('scoring and step-wise top-K', () => {
  it("score: per continuation position the top-K and the actual token at its true log-prob", async () => {
    const continuation = specialist.encode('23+45=68;68*3=204;204-12=193;Answer: 7\n', false);
    const slices = await ancestor.score(PROMPT, continuation, 3);
    const dists = ancestor.scorePrompt([...PROMPT, ...continuation]).slice(PROMPT.length - 1);
    expect(slices).toHaveLength(continuation.length);
    let outside = 0;
    slices.forEach((slice, t) => {
      const d = dists[t]!;
      const token = continuation[t]!;
      expect(Array.from(slice.ids).slice(0, 3)).toEqual(d.ids.slice(0, 3));
      const at = Array.from(slice.ids).indexOf(token);
      expect(slice.logprobs[at]).toBe(d.logprobs[d.ids.indexOf(token)]);
      if (d.ids.indexOf(token) >= 3) {
        outside++;
        expect(slice.ids).toHaveLength(4);
        expect(at).toBe(3);
      } else expect(slice.ids).toHaveLength(3);
    });
    expect(outside).toBeGreaterThan(0); // "193" and "7" are wrong: the ancestor ranks them low
    expect(await ancestor.score(PROMPT, [], 3)).toEqual([]);
  });

  it("scoring a prompt's rollouts runs their shared prefixes once, with results equal to fresh prefills", async () => {
    const m = ancestor;
    m.clearPrefixCache();
    const gens = await specialist.sample(PROMPT, { ...SAMPLE, n: 8, seed: 9 });
    const before = m.work;
    const scored = [];
    for (const g of gens) scored.push(await m.score(PROMPT, g.tokens, 28));
    const ran = m.work.rows - before.rows;
    scored.forEach((slices, i) =>
      slices.forEach((slice, t) => {
        if (i > 1 && t % 7 !== 3) return; // every position of two rollouts, a sample of the others
        const want = fresh(m, [...PROMPT, ...gens[i]!.tokens.slice(0, t)]);
        expect(slice).toEqual({ ids: want.ids, logprobs: want.logprobs });
      }),
    );
    const positions = gens.reduce((n, g) => n + PROMPT.length + g.tokens.length - 1, 0);
    const distinct = new Set(gens.flatMap((g) => [...PROMPT, ...g.tokens].slice(0, -1).map((_, i, seq) => seq.slice(0, i + 1).join(',')))).size;
    expect(ran).toBe(distinct); // each distinct prefix once: with ≤ 32 cached sequences nothing is evicted here
    expect(ran).toBeLessThan(positions);
    // a prefix of a scored sequence needs no forward at all
    const again = m.work.rows;
    await m.score(PROMPT, gens[0]!.tokens.slice(0, 5), 3);
    expect(m.scorePrompt([...PROMPT, ...gens[1]!.tokens.slice(0, 9)])).toHaveLength(PROMPT.length + 8);
    expect(m.work.rows).toBe(again);
    m.clearPrefixCache();
  });

  it('nextTopK through the prefix cache equals a fresh prefill, step by step and when branching', async () => {
    const m = specialist;
    m.clearPrefixCache();
    const seq = [...PROMPT];
    for (let step = 0; step < 30; step++) {
      const top = await m.nextTopK(seq, 28);
      const want = fresh(m, seq);
      expect(top).toEqual({ ids: want.ids, logprobs: want.logprobs });
      // branch: a sibling of the next token, from the same cached prefix
      const sibling = await m.nextTopK([...seq, want.ids[1]!], 4);
      const wantSibling = fresh(m, [...seq, want.ids[1]!]);
      expect(sibling).toEqual({ ids: wantSibling.ids.slice(0, 4), logprobs: wantSibling.logprobs.slice(0, 4) });
      seq.push(want.ids[0]!);
    }
    expect(await m.nextTopK(PROMPT, 2)).toEqual({ ids: fresh(m, PROMPT).ids.slice(0, 2), logprobs: fresh(m, PROMPT).logprobs.slice(0, 2) });
    m.clearPrefixCache();
  });
});

describe('nextTopK batching', () => {
  it('concurrent chains step as one batch: one forward and one new row per chain per step, results as a fresh prefill', async () => {
    const m = ancestor;
    m.clearPrefixCache();
    const chains = ['Q: 2+3=\n', 'Q: 45-7*3=\n', 'Q: 9*9-80+2=\n', 'Q: 12+13+14+15=\n', 'Q: 2+3=\n'].map((t) => m.encode(t, true));
    await Promise.all(chains.map((c) => m.nextTopK(c, 1)));
    for (let step = 0; step < 12; step++) {
      const before = m.work;
      const tops = await Promise.all(chains.map((c) => m.nextTopK(c, 28)));
      const after = m.work;
      // the two identical chains share one computation; the others reuse their cached prefix
      expect(after.forwards - before.forwards).toBe(step === 0 ? 0 : 1);
      expect(after.rows - before.rows).toBe(step === 0 ? 0 : 4);
      tops.forEach((top, i) => {
        const want = fresh(m, chains[i]!);
        expect(top).toEqual({ ids: want.ids, logprobs: want.logprobs });
        chains[i]!.push(want.ids[step % 2]!);
      });
    }
    expect(m.kvSlotsInUse).toBeLessThanOrEqual(32);
    m.clearPrefixCache();
    expect(m.kvSlotsInUse).toBe(0);
  });

  it('a bad prefix rejects its own call only', async () => {
    const [good, bad] = await Promise.allSettled([ancestor.nextTopK(PROMPT, 2), ancestor.nextTopK([1, 40], 2)]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status === 'rejected' && String(bad.reason)).toMatch(/prefix\[1\] = 40 is not a token id/);
  });
});

describe('the context limit (128 positions)', () => {
  const long = (n: number) => [1, ...Array.from({ length: n - 1 }, () => 4)];

  it('sampling past it is an error naming the lengths', async () => {
    const prompt = long(100);
    await expect(specialist.sample(prompt, { ...SAMPLE, seed: 0, maxTokens: 29 })).rejects.toThrow(ContextLengthError);
    await expect(specialist.sample(prompt, { ...SAMPLE, seed: 0, maxTokens: 29 })).rejects.toThrow(
      'arith-specialist: the prompt (100 tokens) plus 29 more tokens is 129, over the model\'s context of 128 tokens; use at most 28 new tokens',
    );
    const [g] = await specialist.sample(prompt, { ...SAMPLE, seed: 0, maxTokens: 28 });
    expect(g!.tokens.length).toBeLessThanOrEqual(28);
  });

  it('prompts, prefixes and continuations past it are errors; a session stops at it', async () => {
    expect(() => specialist.scorePrompt(long(129))).toThrow(/sequence \(129 tokens\) is longer than the model's context of 128/);
    expect(specialist.scorePrompt(long(128))).toHaveLength(127);
    await expect(ancestor.score(long(100), long(29), 5)).rejects.toThrow(/100 tokens\) plus 29 more tokens is 129/);
    await expect(ancestor.nextTopK(long(129), 5)).rejects.toThrow(ContextLengthError);
    expect(() => specialist.startDecode(long(129), 2)).toThrow(ContextLengthError);
    const s = specialist.startDecode(long(127), 2);
    s.next();
    s.push([4, 4]);
    expect(s.next()).toHaveLength(2);
    expect(() => s.push([4, 4])).toThrow(/128 tokens\) plus 1 more tokens is 129/);
    s.close();
  });

  it('bad token ids are errors naming where', async () => {
    await expect(specialist.score(PROMPT, [4, 28], 3)).rejects.toThrow('arith-specialist: continuation[1] = 28 is not a token id (0 … 27)');
    expect(() => specialist.startDecode([1, -1], 1)).toThrow('prompt[1] = -1');
    const s = specialist.startDecode(PROMPT, 1);
    expect(() => s.push([99])).toThrow(/token id 99/);
    s.close();
  });
});

describe('ServedModel surface and the loader', () => {
  it('has the ids, context and end token of the brief', () => {
    expect([specialist.id, ancestor.id]).toEqual(['arith-specialist', 'arith-ancestor']);
    expect(specialist.name).toBe('arith-specialist');
    expect(specialist.maxModelLen).toBe(128);
    expect(specialist.eosId).toBe(2);
    expect(specialist.isStop(2)).toBe(true);
    expect(specialist.isStop(3)).toBe(false);
    expect(specialist.isToken(27)).toBe(true);
    expect(specialist.isToken(28)).toBe(false);
    expect(specialist.tokenText(2)).toBe('<eos>');
    expect(specialist.tokenText(15)).toBe('*');
  });

  it('loads once per directory', () => {
    expect(loadArithLineage()).toBe(lineage);
    expect(loadArithLineage(`${lineage.dir}/`)).toBe(lineage);
  });
});
