/**
 * Claims: each task instance and every counter it raises in ONE transaction per batch.
 *
 *   batch of k requests (in claim order: the last is the lowest priority)
 *     TI 1     scheduled(try n) → queued, holds recorded, claim key → holding key   ┐
 *     …                                                                            │ TransactWriteItems:
 *     TI k                                                                         │ all or nothing
 *     counter A  ADD Σ(A)  if used ≤ limit − Σ(A)   (one update per distinct counter) │
 *     counter B  ADD Σ(B)  if used ≤ limit − Σ(B)                                  ┘
 *
 *   cancelled → from each action's reason and its item as it was (ALL_OLD):
 *     a TI whose condition failed       → lost `ti_changed`, left out;
 *     a counter whose condition failed  → its `used` says how much room is left: the lowest requests
 *                                         raising it are dropped (`limit_reached`) until the rest fit;
 *     a conflict or throttling only     → the same batch again after a jittered backoff;
 *   then the rest is tried again; after MAX_ATTEMPTS retries what remains is lost as `conflict`.
 *   Nothing is ever partly applied: a request is either claimed with all its holds or untouched.
 *
 * No read before the write: the claim is an UpdateItem of the instance's hot attributes
 * (entities.ts), so a claim costs its share of one transaction.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type CounterKey, counterKeyString, tiKeyString } from '#core/model.ts';
import type { ClaimRequest, ClaimResult } from '#ports';
import {
  absentOrKnown,
  both,
  counterHasRoom,
  knownVersion,
  maxBefore,
  tiStillAsRead,
  updateExpression,
} from './conditions.ts';
import type { Items } from './items.ts';
import { holdingKeys, keys } from './keys.ts';
import { checkItem, ITEM_VERSION, keyOf, N, num, S } from './marshal.ts';
import { backoff, MAX_ACTIONS, MAX_ATTEMPTS, newToken, transact, withOldItems } from './transact.ts';

interface Total {
  counter: CounterKey;
  amount: number;
  limit: number;
}

/** Each distinct counter of the requests with the sum of their amounts (the first limit seen wins). */
function totalsOf(requests: ClaimRequest[]): Map<string, Total> {
  const totals = new Map<string, Total>();
  for (const request of requests) {
    for (const hold of request.holds) {
      const id = counterKeyString(hold.counter);
      const total = totals.get(id) ?? { counter: hold.counter, amount: 0, limit: hold.limit };
      total.amount += hold.amount;
      totals.set(id, total);
    }
  }
  return totals;
}

const raises = (request: ClaimRequest, id: string) =>
  request.holds.some((h) => counterKeyString(h.counter) === id);

/** The claim of one instance: scheduled → queued, holds recorded, claim-index key → holding-index key. */
function claimUpdate(withHolds: boolean): string {
  const set = ['#state = :queued', '#queuedAt = :queuedAt', '#holdPk = :holdPk', '#holdSk = :holdSk'];
  if (withHolds) set.push('#holds = :holds');
  const remove = ['#claimPk', '#claimSk', ...(withHolds ? [] : ['#holds'])];
  return `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`;
}

/** The instance is of this schema version, still scheduled, in the try the scheduler read. */
const claimCondition = both(knownVersion, tiStillAsRead);

function claimAction(table: string, request: ClaimRequest): TransactWriteItem {
  const holds = request.holds.map(({ counter, amount }) => ({ counter, amount }));
  const hold = holdingKeys(request.key);
  return {
    Update: {
      TableName: table,
      Key: keyOf(keys.ti(request.key)),
      ...updateExpression(claimUpdate(holds.length > 0), claimCondition, {
        ':queued': S('queued'),
        ':queuedAt': N(request.queuedAt),
        ':holdPk': S(hold.holdPk),
        ':holdSk': S(hold.holdSk),
        ':holds': S(JSON.stringify(holds)),
        ':v': N(ITEM_VERSION),
        ':expectedState': S('scheduled'),
        ':expectedTry': N(request.tryNumber),
      }),
    },
  };
}

/**
 * A counter raise. The counter lists itself in the `active` index (for the reconciler), remembers
 * the last limit it was raised under (`lim`, for parking), and like every change of a counter
 * moves its version `ver` and `changedAt` (so the reconciler can tell a counter that moved while it
 * was being recounted).
 */
const raiseUpdate =
  'SET #type = :counterType, #v = :v, #activePk = :counters, #activeSk = :counterId, ' +
  '#counterKey = :counterKey, #lim = :limit, #changedAt = :now ADD #used :amount, #ver :one';

/** A limited raise needs room; an unlimited (-1) one only a counter this code understands. */
function raiseCondition(limited: boolean): string {
  return limited ? both(absentOrKnown, counterHasRoom) : absentOrKnown;
}

/** Raises a counter by the batch's total for it. Impossible raises are shed before, never sent. */
function raiseAction(table: string, total: Total, now: number): TransactWriteItem {
  const limited = total.limit !== -1;
  const max = limited ? maxBefore(total.limit, total.amount) : null;
  if (limited && max === null) throw new Error(`raise of ${counterKeyString(total.counter)} can never fit`);
  return {
    Update: {
      TableName: table,
      Key: keyOf(keys.counter(total.counter)),
      ...updateExpression(raiseUpdate, raiseCondition(limited), {
        ':counterType': S('counter'),
        ':v': N(ITEM_VERSION),
        ':counters': S('CTRS'),
        ':counterId': S(counterKeyString(total.counter)),
        ':counterKey': S(JSON.stringify(total.counter)),
        ':limit': N(total.limit),
        ':amount': N(total.amount),
        ':now': N(now),
        ':one': N(1),
        ...(max !== null && { ':max': N(max) }),
      }),
    },
  };
}

/**
 * Drops the lowest requests raising counter `id` until what the rest raise fits in `room`.
 * Returns the requests kept.
 */
function shed(
  pending: ClaimRequest[],
  id: string,
  room: number,
  counter: CounterKey,
  result: ClaimResult,
): ClaimRequest[] {
  let total = totalsOf(pending).get(id)?.amount ?? 0;
  const dropped = new Set<ClaimRequest>();
  for (let i = pending.length - 1; i >= 0 && total > room; i -= 1) {
    const request = pending[i]!;
    if (!raises(request, id)) continue;
    dropped.add(request);
    total -= request.holds
      .filter((h) => counterKeyString(h.counter) === id)
      .reduce((s, h) => s + h.amount, 0);
    result.lost.push({ key: request.key, reason: 'limit_reached', counter });
  }
  return pending.filter((r) => !dropped.has(r));
}

/** Requests whose batch total can never fit the limit shed their lowest first, without a write. */
function shedImpossible(pending: ClaimRequest[], result: ClaimResult): ClaimRequest[] {
  let rest = pending;
  for (const [id, total] of totalsOf(pending)) {
    if (total.limit !== -1 && total.amount > total.limit)
      rest = shed(rest, id, total.limit, total.counter, result);
  }
  return rest;
}

async function claimBatch(
  items: Items,
  batch: ClaimRequest[],
  result: ClaimResult,
  now: number,
): Promise<void> {
  let pending = shedImpossible(batch, result);
  let token = newToken();
  for (let attempt = 0; pending.length > 0; ) {
    const counters = [...totalsOf(pending).values()];
    const actions = [
      ...pending.map((r) => claimAction(items.table, r)),
      ...counters.map((t) => raiseAction(items.table, t, now)),
    ].map(withOldItems);
    const outcome = await transact(items.client, actions, token);
    if (outcome.kind === 'committed') {
      result.claimed.push(...pending.map((r) => r.key));
      return;
    }
    if (outcome.kind === 'retry') {
      attempt += 1;
      if (attempt >= MAX_ATTEMPTS) break;
      await backoff(attempt);
      continue; // the same actions: keep the token
    }
    const { reasons } = outcome;
    const before = pending.length;
    const changed = new Set<ClaimRequest>();
    pending.forEach((request, i) => {
      const reason = reasons[i];
      if (reason?.code !== 'ConditionalCheckFailed') return;
      if (reason.item) checkItem(reason.item, 'ti');
      changed.add(request);
      result.lost.push({ key: request.key, reason: 'ti_changed' });
    });
    pending = pending.filter((r) => !changed.has(r));
    counters.forEach((total, j) => {
      const reason = reasons[before + j];
      if (reason?.code !== 'ConditionalCheckFailed') return;
      if (reason.item) checkItem(reason.item, 'counter');
      const used = num(reason.item?.used) ?? 0;
      pending = shed(pending, counterKeyString(total.counter), total.limit - used, total.counter, result);
    });
    // A cancellation that settled nothing (it should not happen) counts as an attempt, so this ends.
    if (pending.length === before) {
      attempt += 1;
      if (attempt >= MAX_ATTEMPTS) break;
      await backoff(attempt);
    }
    token = newToken();
  }
  for (const request of pending) result.lost.push({ key: request.key, reason: 'conflict' });
}

/**
 * Splits requests into batches whose instances plus distinct counters fit one transaction. A
 * request naming an instance already requested earlier is lost at once (one item cannot appear
 * twice in a transaction, and the first request claims it).
 */
function batches(requests: ClaimRequest[], result: ClaimResult): ClaimRequest[][] {
  const out: ClaimRequest[][] = [];
  const seen = new Set<string>();
  let current: ClaimRequest[] = [];
  let counters = new Set<string>();
  for (const request of requests) {
    const id = tiKeyString(request.key);
    if (seen.has(id)) {
      result.lost.push({ key: request.key, reason: 'ti_changed' });
      continue;
    }
    seen.add(id);
    const mine = request.holds.map((h) => counterKeyString(h.counter));
    const next = new Set([...counters, ...mine]);
    if (current.length > 0 && current.length + 1 + next.size > MAX_ACTIONS) {
      out.push(current);
      current = [];
      counters = new Set(mine);
    } else counters = next;
    current.push(request);
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function claim(items: Items, requests: ClaimRequest[], now: number): Promise<ClaimResult> {
  const result: ClaimResult = { claimed: [], lost: [] };
  for (const batch of batches(requests, result)) await claimBatch(items, batch, result, now);
  return result;
}

export {
  batches,
  claim,
  claimAction,
  claimCondition,
  claimUpdate,
  raiseAction,
  raiseCondition,
  raiseUpdate,
  totalsOf,
};
