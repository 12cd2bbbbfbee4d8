/** Virtual time for the simulator: an event queue ordered by time (stable for equal times) and a seeded PRNG. */

class EventQueue<T> {
  readonly #heap: { at: number; seq: number; value: T }[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(at: number, value: T): void {
    this.#heap.push({ at, seq: this.#seq++, value });
    this.#up(this.#heap.length - 1);
  }

  peekTime(): number | undefined {
    return this.#heap[0]?.at;
  }

  /** Removes and returns every event at exactly `at`, in insertion order. */
  popAt(at: number): T[] {
    const out: T[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.at === at) out.push(this.#pop());
    return out;
  }

  #pop(): T {
    const top = this.#heap[0]!;
    const last = this.#heap.pop()!;
    if (this.#heap.length > 0) {
      this.#heap[0] = last;
      this.#down(0);
    }
    return top.value;
  }

  #less(i: number, j: number): boolean {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const tmp = this.#heap[i]!;
    this.#heap[i] = this.#heap[j]!;
    this.#heap[j] = tmp;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.#less(l, best)) best = l;
      if (r < n && this.#less(r, best)) best = r;
      if (best === i) return;
      this.#swap(i, best);
      i = best;
    }
  }
}

/** A small, fast, seeded PRNG (mulberry32): same seed, same sequence. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export { EventQueue, mulberry32 };
