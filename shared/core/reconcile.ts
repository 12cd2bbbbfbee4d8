/**
 * The reconciler's arithmetic: every counter should equal the holds recorded on the queued and
 * running task instances. A difference is drift, and drift means a bug (a repair is reported, never
 * silent). Pure: the caller reads the counters and the holders.
 *
 * A store may split a counter into shards (the DynamoDB store's `counterShards`): then each shard is
 * compared with the parts of the holds recorded against it, and a drift names its shard.
 */
import { type CounterKey, counterKeyString, type TaskInstance } from './model.ts';

export interface Drift {
  counter: CounterKey;
  /** The shard of a sharded counter; absent for a counter kept as one value and for shard 0 (its own item). */
  shard?: number;
  /** What the counter (shard) says. */
  used: number;
  /** What the holders add up to. */
  held: number;
}

/** What one run of the reconciler found and did. */
export interface Reconciliation {
  /** Every counter (shard) whose value differs from what its holders add up to. */
  drift: Drift[];
  /** The drift that was corrected (only with `repair`; each a bug to find). */
  repaired: Drift[];
  /**
   * Counters (shards) that moved while they were being recounted, or too recently to be sure every
   * holder is visible: not judged this time (a busy counter is judged when it is quiet).
   */
  unsettled: number;
}

/** One counter or shard as read, and one part of a hold recorded on a holder. */
export interface CounterValue {
  key: CounterKey;
  shard?: number;
  used: number;
}

export interface HoldPart {
  counter: CounterKey;
  shard?: number;
  amount: number;
}

/** Shard 0 is the counter's own item: a hold without a shard is on it, and a drift on it names no shard. */
const idOf = (counter: CounterKey, shard: number | undefined) => `${counterKeyString(counter)}#${shard ?? 0}`;

/** Drift of every counter (shard) against the parts of the holds recorded against it. */
function findPartDrift(counters: CounterValue[], parts: HoldPart[]): Drift[] {
  const held = new Map<string, HoldPart>();
  for (const part of parts) {
    const id = idOf(part.counter, part.shard);
    const entry = held.get(id) ?? { ...part, amount: 0 };
    entry.amount += part.amount;
    held.set(id, entry);
  }
  const drift: Drift[] = [];
  const seen = new Set<string>();
  const of = (counter: CounterKey, shard: number | undefined, used: number, amount: number): Drift => ({
    counter,
    ...(shard !== undefined && shard > 0 && { shard }),
    used,
    held: amount,
  });
  for (const { key, shard, used } of counters) {
    const id = idOf(key, shard);
    seen.add(id);
    const amount = held.get(id)?.amount ?? 0;
    if (amount !== used) drift.push(of(key, shard, used, amount));
  }
  for (const [id, { counter, shard, amount }] of held) {
    if (!seen.has(id) && amount !== 0) drift.push(of(counter, shard, 0, amount));
  }
  return drift.sort((a, b) => (idOf(a.counter, a.shard) < idOf(b.counter, b.shard) ? -1 : 1));
}

/** Drift of every counter against the holds of the holders (counters kept as one value each). */
function findDrift(
  counters: { key: CounterKey; used: number }[],
  holders: Pick<TaskInstance, 'holds'>[],
): Drift[] {
  return findPartDrift(
    counters.map(({ key, used }) => ({ key, used })),
    holders.flatMap((ti) => ti.holds),
  );
}

export { findDrift, findPartDrift };
