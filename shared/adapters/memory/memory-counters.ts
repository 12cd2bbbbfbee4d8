/**
 * The memory store's slot counters (DynamoDB's counter items): raised by claims under their
 * limits, lowered by try ends, never below zero. An absent counter reads as 0.
 */
import { type CounterKey, counterKeyString, type Hold } from '#core/model.ts';
import type { ClaimRequest, CounterState } from '#ports';

/** Amounts per counter, a counter named twice counting twice. */
function totals(holds: readonly Hold[]): Map<string, { key: CounterKey; amount: number }> {
  const sums = new Map<string, { key: CounterKey; amount: number }>();
  for (const { counter, amount } of holds) {
    const id = counterKeyString(counter);
    sums.set(id, { key: counter, amount: (sums.get(id)?.amount ?? 0) + amount });
  }
  return sums;
}

class MemoryCounters {
  readonly #counters = new Map<string, { key: CounterKey; used: number }>();

  used(key: CounterKey): number {
    return this.#counters.get(counterKeyString(key))?.used ?? 0;
  }

  /**
   * Raises every counter by its holds if each has room (`used + amount <= limit`, -1 = unlimited,
   * a counter named twice counting twice); otherwise changes nothing and returns the first full one.
   */
  claim(holds: ClaimRequest['holds']): CounterKey | null {
    const sums = totals(holds);
    for (const { counter, limit } of holds) {
      if (limit !== -1 && this.used(counter) + sums.get(counterKeyString(counter))!.amount > limit)
        return counter;
    }
    for (const [id, { key, amount }] of sums) {
      const counter = this.#counters.get(id);
      if (counter) counter.used += amount;
      else this.#counters.set(id, { key: { ...key }, used: amount });
    }
    return null;
  }

  /** Lowers each counter by the holds of `owner`; checks them all first, so a double release changes nothing. */
  release(holds: readonly Hold[], owner: string): void {
    const sums = totals(holds);
    for (const [id, { key, amount }] of sums) {
      const left = this.used(key) - amount;
      if (left < 0) {
        throw new Error(
          `counter ${id} would go below zero (${left}) ending ${owner}: a slot was released twice`,
        );
      }
    }
    for (const [id, { amount }] of sums) {
      const counter = this.#counters.get(id);
      if (counter) counter.used -= amount;
    }
  }

  /** The reconciler's repair: sets a counter to what its holders add up to. */
  correct(key: CounterKey, held: number): void {
    this.#counters.set(counterKeyString(key), { key: { ...key }, used: held });
  }

  list(): CounterState[] {
    return Array.from(this.#counters.values(), (c) => ({ key: { ...c.key }, used: c.used }));
  }

  /** Every counter's value, keyed by `counterKeyString`. */
  snapshot(): Map<string, number> {
    return new Map(Array.from(this.#counters, ([id, c]) => [id, c.used]));
  }
}

export { MemoryCounters };
