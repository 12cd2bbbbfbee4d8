/**
 * The reconciler's arithmetic: every counter should equal the holds recorded on the queued and
 * running task instances. A difference is drift, and drift means a bug (a repair is reported, never
 * silent). Pure: the caller reads the counters and the holders.
 */
import { type CounterKey, counterKeyString, type TaskInstance } from './model.ts';

export interface Drift {
  counter: CounterKey;
  /** What the counter says. */
  used: number;
  /** What the holders add up to. */
  held: number;
}

function findDrift(
  counters: { key: CounterKey; used: number }[],
  holders: Pick<TaskInstance, 'holds'>[],
): Drift[] {
  const held = new Map<string, { counter: CounterKey; amount: number }>();
  for (const ti of holders) {
    for (const hold of ti.holds) {
      const id = counterKeyString(hold.counter);
      const entry = held.get(id) ?? { counter: hold.counter, amount: 0 };
      entry.amount += hold.amount;
      held.set(id, entry);
    }
  }
  const drift: Drift[] = [];
  const seen = new Set<string>();
  for (const { key, used } of counters) {
    const id = counterKeyString(key);
    seen.add(id);
    const amount = held.get(id)?.amount ?? 0;
    if (amount !== used) drift.push({ counter: key, used, held: amount });
  }
  for (const [id, { counter, amount }] of held) {
    if (!seen.has(id) && amount !== 0) drift.push({ counter, used: 0, held: amount });
  }
  return drift.sort((a, b) => (counterKeyString(a.counter) < counterKeyString(b.counter) ? -1 : 1));
}

export { findDrift };
