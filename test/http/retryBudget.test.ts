import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/http/retryBudget.js';

describe('RetryBudget: allowed = max(floor, ⌊fraction × requests⌋)', () => {
  it('hand-computed: floor 10 until 100 requests, then 10% of requests', () => {
    const b = new RetryBudget();
    expect(b.options).toEqual({ floor: 10, fraction: 0.1 });
    expect(b.allowed).toBe(10);
    for (let i = 0; i < 156; i++) b.countRequest();
    expect(b.allowed).toBe(15); // ⌊0.1 × 156⌋
    for (let i = 0; i < 15; i++) expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    expect(b.retries).toBe(15);
    b.countRequest();
    b.countRequest();
    b.countRequest();
    b.countRequest(); // 160 requests: ⌊16⌋ allowed, one more retry
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
  });

  it('the 120-problem slow-server case: 12-sample requests timing out are retried at most the budget, not 5 times each', () => {
    const b = new RetryBudget({ floor: 10, fraction: 0.1 });
    let retries = 0;
    for (let row = 0; row < 120; row++) {
      b.countRequest();
      for (let attempt = 1; attempt <= 4 && b.tryRetry(); attempt++) retries++;
    }
    expect(retries).toBe(12); // 10 early, then ⌊0.1 × 110⌋ = 11 and ⌊0.1 × 120⌋ = 12: not 480
    expect(b.describe()).toBe('retry budget exhausted: 12 retries spent, the most allowed after 120 requests (max(10, 10% of requests)); raise retryBudget.floor / retryBudget.fraction, or fix the endpoint');
  });

  it('bad options name the field', () => {
    expect(() => new RetryBudget({ fraction: 2 })).toThrow(/fraction/);
    expect(() => new RetryBudget({ floor: -1 })).toThrow(/floor/);
  });
});
