/**
 * The claim's last look at its counters. A pass reads its counters before it lists candidates; a
 * concurrent pass may raise them meanwhile, and a claim whose raise no longer fits is cancelled in
 * its transaction with everything beside it (each of its writes still billed). So the counters that
 * the claims would leave with less room than they take ("tight") are read again just before the
 * claim, and the claims are fitted to what is left, in claim order: a claim that does not fit is
 * left out (lost `limit_reached`, as the transaction would have lost it) and a smaller one after it
 * may still fit. Advisory only: the transaction's own conditions still hold every limit.
 */
import { type CounterKey, counterKeyString, type Hold } from './model.ts';

/** A claim's holds, each with the limit it must stay within (-1 = unlimited). */
export interface RoomClaim {
  holds: (Hold & { limit: number })[];
}

/**
 * The limited counters whose room after these claims (by `used`, as read) would be smaller than what
 * the claims take of them: a concurrent pass claiming as much would make them overflow.
 */
function tightCounters(claims: readonly RoomClaim[], used: (counter: CounterKey) => number): CounterKey[] {
  const totals = new Map<string, { counter: CounterKey; limit: number; amount: number }>();
  for (const { holds } of claims) {
    for (const { counter, amount, limit } of holds) {
      if (limit < 0) continue;
      const id = counterKeyString(counter);
      const total = totals.get(id);
      if (total) total.amount += amount;
      else totals.set(id, { counter, limit, amount });
    }
  }
  const out: CounterKey[] = [];
  for (const { counter, limit, amount } of totals.values())
    if (limit - (used(counter) + amount) < amount) out.push(counter);
  return out;
}

/**
 * Splits `claims` (in claim order) into those that fit the `checked` counters' room by `used` (as
 * read again) and those left out, each with the first checked counter it found full.
 */
function fitToRoom<T extends RoomClaim>(
  claims: readonly T[],
  checked: readonly CounterKey[],
  used: (counter: CounterKey) => number,
): { kept: T[]; left: { claim: T; counter: CounterKey; limit: number }[] } {
  const taken = new Map<string, number>();
  for (const counter of checked) taken.set(counterKeyString(counter), used(counter));
  const kept: T[] = [];
  const left: { claim: T; counter: CounterKey; limit: number }[] = [];
  for (const claim of claims) {
    const full = claim.holds.find(({ counter, amount, limit }) => {
      const now = limit < 0 ? undefined : taken.get(counterKeyString(counter));
      return now !== undefined && now + amount > limit;
    });
    if (full) {
      left.push({ claim, counter: full.counter, limit: full.limit });
      continue;
    }
    for (const { counter, amount } of claim.holds) {
      const id = counterKeyString(counter);
      const now = taken.get(id);
      if (now !== undefined) taken.set(id, now + amount);
    }
    kept.push(claim);
  }
  return { kept, left };
}

export { fitToRoom, tightCounters };
