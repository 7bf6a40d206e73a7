// Fixed-size history of one series (an SLI in one ring): the newest `capacity`
// samples, in a Float64Array allocated once. A cockpit left open for days
// takes a sample every few seconds per metric; the memory must not grow with it.
// NaN is a legal sample ("no data") and is skipped by min/max.

export class RingBuffer {
  readonly #data: Float64Array;
  /** index where the next sample goes */
  #head = 0;
  #length = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`RingBuffer capacity must be a positive integer, got ${String(capacity)}`);
    }
    this.#data = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.#data.length;
  }

  /** samples kept, at most capacity */
  get length(): number {
    return this.#length;
  }

  /** Add the newest sample, dropping the oldest when full. */
  push(value: number): void {
    const data = this.#data;
    const head = this.#head;
    data[head] = value;
    // A compare, not %: push runs twice per SLI sample, the bulk of the stream.
    this.#head = head + 1 === data.length ? 0 : head + 1;
    if (this.#length < data.length) this.#length++;
  }

  /** The i-th kept sample, 0 = oldest; NaN outside 0..length-1 (read as "no data"). */
  get(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) return NaN;
    const cap = this.#data.length;
    return this.#data[(this.#head - this.#length + i + cap) % cap]!;
  }

  /** The newest sample; NaN when empty. */
  last(): number {
    return this.#length === 0 ? NaN : this.get(this.#length - 1);
  }

  /** A copy of the newest `max` samples (all by default), oldest first. */
  toArray(max: number = this.#length): Float64Array {
    const n = Math.max(0, Math.min(this.#length, Number.isNaN(max) ? 0 : Math.floor(max)));
    const out = new Float64Array(n);
    const cap = this.#data.length;
    // Two contiguous runs at most: copy them with subarray/set rather than sample by sample.
    const from = (this.#head - n + cap) % cap;
    const firstRun = Math.min(n, cap - from);
    out.set(this.#data.subarray(from, from + firstRun), 0);
    if (firstRun < n) out.set(this.#data.subarray(0, n - firstRun), firstRun);
    return out;
  }

  // Order does not matter here, and the kept samples always sit in slots 0..length-1
  // (until full, pushes fill from slot 0; once full, every slot is kept).

  /** Smallest kept sample, ignoring NaN; NaN when there is none. */
  min(): number {
    let m = NaN;
    for (let i = 0; i < this.#length; i++) {
      const v = this.#data[i]!;
      if (v < m || (Number.isNaN(m) && !Number.isNaN(v))) m = v;
    }
    return m;
  }

  /** Largest kept sample, ignoring NaN; NaN when there is none. */
  max(): number {
    let m = NaN;
    for (let i = 0; i < this.#length; i++) {
      const v = this.#data[i]!;
      if (v > m || (Number.isNaN(m) && !Number.isNaN(v))) m = v;
    }
    return m;
  }

  /** Forget every sample; the capacity (and the memory) stays. */
  clear(): void {
    this.#head = 0;
    this.#length = 0;
  }
}
