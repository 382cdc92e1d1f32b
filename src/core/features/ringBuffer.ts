/**
 * A fixed-capacity window of the most recent numbers with an O(1) running sum. The sum is
 * recomputed from the stored values every `capacity` pushes so float drift cannot accumulate
 * over a 100k-token trace. Capacity 0 is a window that is always empty.
 */
export class RingBuffer {
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;
  private total = 0;
  private sinceResum = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  isFull(): boolean {
    return this.count === this.capacity && this.capacity > 0;
  }

  push(value: number): void {
    if (this.capacity === 0) return;
    if (this.count === this.capacity) this.total -= this.values[this.next]!;
    else this.count++;
    this.values[this.next] = value;
    this.total += value;
    this.next = (this.next + 1) % this.capacity;
    if (++this.sinceResum >= this.capacity) {
      this.sinceResum = 0;
      let s = 0;
      for (let i = 0; i < this.count; i++) s += this.values[i]!;
      this.total = s;
    }
  }

  /** Empties the window. */
  clear(): void {
    this.next = this.count = this.total = this.sinceResum = 0;
  }

  sum(): number {
    return this.total;
  }
}
