/**
 * The memory store's slot counters (DynamoDB's counter items): raised by claims under their
 * limits, lowered by try ends, never below zero. An absent counter reads as 0.
 */
import { type CounterKey, counterKeyString, type Hold, type TiKey, tiKeyString } from '#core/model.ts';
import type { ClaimRequest, CounterState } from '#ports';

/** Amounts per counter (by the ids of `holds`, in order), a counter named twice counting twice. */
function totals(
  holds: readonly Hold[],
  ids: readonly string[],
): Map<string, { key: CounterKey; amount: number }> {
  const sums = new Map<string, { key: CounterKey; amount: number }>();
  for (let i = 0; i < holds.length; i += 1) {
    const { counter, amount } = holds[i]!;
    const sum = sums.get(ids[i]!);
    if (sum) sum.amount += amount;
    else sums.set(ids[i]!, { key: counter, amount });
  }
  return sums;
}

/**
 * `counterKeyString` of a DAG's or a pool's counter, each built once (every claim names its DAG's
 * and pool's counters, and every pass reads them: a string built per call is hashed anew for each
 * lookup). Bounded by the DAGs and pools there are; emptied if it ever grows past `MAX_IDS`.
 */
const memo = { dag: new Map<string, string>(), pool: new Map<string, string>() };
const MAX_IDS = 100_000;

function idOf(key: CounterKey): string {
  if (key.kind === 'global') return 'global';
  if (key.kind !== 'dag' && key.kind !== 'pool') return counterKeyString(key);
  const ids = memo[key.kind];
  const name = key.kind === 'dag' ? key.dagId : key.pool;
  let id = ids.get(name);
  if (id === undefined) {
    if (ids.size >= MAX_IDS) ids.clear();
    id = counterKeyString(key);
    ids.set(name, id);
  }
  return id;
}

/** The counter ids of `holds`, in order: a claim's are kept with its instance, so the release builds none again. */
const idsOf = (holds: readonly Hold[]) => holds.map((h) => idOf(h.counter));

/** Whether no counter is named twice (nearly always): then each hold is its counter's whole amount. */
function distinct(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i += 1) for (let j = 0; j < i; j += 1) if (ids[i] === ids[j]) return false;
  return true;
}

class MemoryCounters {
  readonly #counters = new Map<string, { key: CounterKey; used: number }>();

  used(key: CounterKey): number {
    return this.#counters.get(idOf(key))?.used ?? 0;
  }

  /**
   * Raises every counter by its holds if each has room (`used + amount <= limit`, -1 = unlimited,
   * a counter named twice counting twice); otherwise changes nothing and returns the first full one.
   */
  claim(holds: ClaimRequest['holds'], ids: readonly string[] = idsOf(holds)): CounterKey | null {
    if (!distinct(ids)) return this.#claimSummed(holds, ids);
    for (let i = 0; i < holds.length; i += 1) {
      const { counter, limit, amount } = holds[i]!;
      if (limit !== -1 && (this.#counters.get(ids[i]!)?.used ?? 0) + amount > limit) return counter;
    }
    for (let i = 0; i < holds.length; i += 1) {
      const { counter: key, amount } = holds[i]!;
      const counter = this.#counters.get(ids[i]!);
      if (counter) counter.used += amount;
      else this.#counters.set(ids[i]!, { key: { ...key }, used: amount });
    }
    return null;
  }

  /** `claim` with a counter named more than once: its holds are summed first. */
  #claimSummed(holds: ClaimRequest['holds'], ids: readonly string[]): CounterKey | null {
    const sums = totals(holds, ids);
    for (let i = 0; i < holds.length; i += 1) {
      const { counter, limit } = holds[i]!;
      const id = ids[i]!;
      if (limit !== -1 && (this.#counters.get(id)?.used ?? 0) + sums.get(id)!.amount > limit) return counter;
    }
    for (const [id, { key, amount }] of sums) {
      const counter = this.#counters.get(id);
      if (counter) counter.used += amount;
      else this.#counters.set(id, { key: { ...key }, used: amount });
    }
    return null;
  }

  /**
   * Lowers each counter by the holds of `owner` (`ids`: their counter ids, as `idsOf` gives them);
   * checks them all first, so a double release changes nothing.
   */
  release(holds: readonly Hold[], owner: TiKey, ids: readonly string[] = idsOf(holds)): void {
    if (!distinct(ids)) {
      this.#releaseSummed(holds, owner, ids);
      return;
    }
    for (let i = 0; i < holds.length; i += 1) {
      const left = (this.#counters.get(ids[i]!)?.used ?? 0) - holds[i]!.amount;
      if (left < 0) throw belowZero(ids[i]!, left, owner);
    }
    for (let i = 0; i < holds.length; i += 1) {
      const counter = this.#counters.get(ids[i]!);
      if (counter) counter.used -= holds[i]!.amount;
    }
  }

  /** `release` with a counter named more than once: its holds are summed first. */
  #releaseSummed(holds: readonly Hold[], owner: TiKey, ids: readonly string[]): void {
    const sums = totals(holds, ids);
    for (const [id, { amount }] of sums) {
      const left = (this.#counters.get(id)?.used ?? 0) - amount;
      if (left < 0) throw belowZero(id, left, owner);
    }
    for (const [id, { amount }] of sums) {
      const counter = this.#counters.get(id);
      if (counter) counter.used -= amount;
    }
  }

  /**
   * Whether any counter differs from `held` (amounts by counter id) — the condition under which
   * `findDrift` reports drift — judged without copying a counter or building an id.
   */
  differsFrom(held: ReadonlyMap<string, number>): boolean {
    for (const [id, counter] of this.#counters) if ((held.get(id) ?? 0) !== counter.used) return true;
    for (const [id, amount] of held) if (amount !== 0 && !this.#counters.has(id)) return true;
    return false;
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

function belowZero(id: string, left: number, owner: TiKey): Error {
  return new Error(
    `counter ${id} would go below zero (${left}) ending ${tiKeyString(owner)}: a slot was released twice`,
  );
}

export { idsOf, MemoryCounters };
