/**
 * A token-id → entry-index table for one top-K slice: open addressing with linear probing over a
 * power-of-two array sized to the slice (≥ 2× its entries, so probes stay short and the table
 * stays in L1 for K ≤ 1000), cleared in O(1) by bumping a generation stamp. Ids are
 * non-negative 32-bit integers; nothing depends on the vocabulary size.
 */
export class IdTable {
  private keys!: Int32Array;
  private values!: Int32Array;
  private stamps!: Int32Array;
  private mask!: number;
  private shift!: number;
  private generation = 0;

  constructor(entries = 128) {
    this.allocate(entries);
  }

  /** Empties the table and makes room for `entries` ids. */
  reset(entries: number): void {
    if (2 * entries > this.keys.length) this.allocate(entries);
    if (++this.generation === 0x7fffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  /** Fresh arrays sized for `entries` ids (see tableSize), empty. */
  private allocate(entries: number): void {
    const size = tableSize(entries);
    this.keys = new Int32Array(size);
    this.values = new Int32Array(size);
    this.stamps = new Int32Array(size);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
    this.generation = 0;
  }

  /** Adds id → value; false (and nothing changed) when the id is already present. */
  insert(id: number, value: number): boolean {
    const { keys, stamps, mask, generation } = this;
    let h = Math.imul(id, 0x9e3779b1) >>> this.shift;
    while (stamps[h] === generation) {
      if (keys[h] === id) return false;
      h = (h + 1) & mask;
    }
    stamps[h] = generation;
    keys[h] = id;
    this.values[h] = value;
    return true;
  }

  /** The value stored for `id`, or −1. */
  get(id: number): number {
    const { keys, stamps, mask, generation } = this;
    let h = Math.imul(id, 0x9e3779b1) >>> this.shift;
    while (stamps[h] === generation) {
      if (keys[h] === id) return this.values[h]!;
      h = (h + 1) & mask;
    }
    return -1;
  }
}

/** The smallest power of two ≥ 4× the entries (load ≤ ¼), at least 64. */
function tableSize(entries: number): number {
  let size = 64;
  while (size < 4 * entries) size *= 2;
  return size;
}
