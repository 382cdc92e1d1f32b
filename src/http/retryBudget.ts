import { z } from 'zod';

export const RetryBudgetSchema = z
  .object({
    /** Retries always allowed, however few requests were made. */
    floor: z.number().int().min(0).default(10),
    /** Beyond the floor, this share of the requests made so far may be retried. */
    fraction: z.number().min(0).max(1).default(0.1),
  })
  .strict();
export type RetryBudgetOptions = z.output<typeof RetryBudgetSchema>;

/**
 * A cap on retries shared by every request of one owner (a RolloutProvider instance: its
 * specialist and ancestor together), so a slow or failing server is not hit with
 * maxRetries × every request. Retries allowed so far = max(floor, ⌊fraction × requests⌋),
 * where requests counts first attempts only.
 *
 * @example
 * const b = new RetryBudget({ floor: 2, fraction: 0.1 });
 * b.countRequest(); b.tryRetry(); b.tryRetry(); b.tryRetry(); // true, true, false
 */
export class RetryBudget {
  requests = 0;
  retries = 0;
  readonly options: RetryBudgetOptions;

  constructor(options: Partial<RetryBudgetOptions> = {}) {
    this.options = RetryBudgetSchema.parse(options);
  }

  /** max(floor, ⌊fraction × requests⌋). */
  get allowed(): number {
    return Math.max(this.options.floor, Math.floor(this.options.fraction * this.requests));
  }

  /** Counts a first attempt. */
  countRequest(): void {
    this.requests++;
  }

  /** Spends one retry when any is left; false when the budget is exhausted. */
  tryRetry(): boolean {
    if (this.retries >= this.allowed) return false;
    this.retries++;
    return true;
  }

  /** Why a request was not retried, for error messages. */
  describe(): string {
    const { floor, fraction } = this.options;
    return `retry budget exhausted: ${this.retries} retries spent, the most allowed after ${this.requests} requests (max(${floor}, ${+(fraction * 100).toFixed(2)}% of requests)); raise retryBudget.floor / retryBudget.fraction, or fix the endpoint`;
  }
}
