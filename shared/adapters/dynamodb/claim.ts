/**
 * Claims: each task instance and every counter it raises in ONE transaction per batch.
 *
 *   batch of k requests (in claim order: the last is the lowest priority)
 *     TI 1     scheduled(try n) → queued, holds recorded, claim key removed             ┐
 *              (a `schedule` request: as read → queued, the whole item written, or created)│
 *     …                                                                               │ TransactWriteItems:
 *     TI k                                                                            │ all or nothing
 *     counter A (shard i)  ADD Σ  if used ≤ share − Σ   (one update per counter shard)  │
 *     counter B (shard j)  ADD Σ  if used ≤ share − Σ                                 ┘
 *
 *   Each hold is placed in parts on counter shards (shards.ts; one shard = the counter's own item,
 *   whose share is the whole limit). A part that cannot fit its shard — its batch total exceeds the
 *   share before sending, or the shard's condition failed with ALL_OLD `used` leaving too little
 *   room — moves to a shard the hold has not tried; a hold with no shard left is lost
 *   `limit_reached` (naming the counter). Higher requests keep their place: lower ones move first.
 *
 *   cancelled → from each action's reason and its item as it was (ALL_OLD):
 *     a TI whose condition failed             → lost `ti_changed`, left out;
 *     a counter shard whose condition failed  → its `used` says how much room is left (above);
 *     a conflict or throttling only           → the same batch again after a jittered backoff;
 *   then the rest is tried again; after MAX_ATTEMPTS retries what remains is lost as `conflict`.
 *   Nothing is ever partly applied: a request is either claimed with all its holds or untouched.
 *
 * No read before the write: the claim is an UpdateItem of the instance's hot attributes
 * (entities.ts), so a claim costs its share of one transaction.
 */
import type { AttributeValue, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type CounterKey, counterKeyString, tiKeyString } from '#core/model.ts';
import { assertScheduleClaim } from '#core/transitions.ts';
import type { ClaimRequest, ClaimResult } from '#ports';
import {
  absentOrKnown,
  both,
  counterHasRoom,
  itemAbsent,
  knownVersion,
  maxBefore,
  tiStillAsRead,
  updateExpression,
} from './conditions.ts';
import { tiItem } from './entities.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { checkItem, ITEM_VERSION, keyOf, N, num, S } from './marshal.ts';
import { type Part, partId, partsOf, shardCount } from './shards.ts';
import { backoff, MAX_ACTIONS, MAX_ATTEMPTS, newToken, transact, withOldItems } from './transact.ts';

interface Total {
  counter: CounterKey;
  shard: number;
  amount: number;
  /** The shard's share of the limit (-1: unlimited). */
  share: number;
  sharded: boolean;
  /** The limit the hold was raised under (recorded as `lim`, for parking). */
  limit: number;
}

/** A request on its way: the shards each of its counters already turned out full on. */
interface Pending {
  request: ClaimRequest;
  tried: Map<string, Set<number>>;
  parts: Part[];
}

/** Places a pending request's holds; null (and the counter) when one of them has no shard left. */
function place(pending: Pending, shards: number): CounterKey | null {
  const parts: Part[] = [];
  for (const hold of pending.request.holds) {
    const placed = partsOf(
      hold,
      pending.request.key,
      shards,
      pending.tried.get(counterKeyString(hold.counter)) ?? new Set(),
    );
    if (!placed) return hold.counter;
    parts.push(...placed);
  }
  pending.parts = parts;
  return null;
}

/** Each counter shard of the batch with the sum of what its parts raise (the first limit seen wins). */
function totalsOf(pending: Pending[]): Map<string, Total> {
  const totals = new Map<string, Total>();
  for (const p of pending) {
    for (const part of p.parts) {
      const id = partId(part.counter, part.shard);
      const limit = p.request.holds.find(
        (h) => counterKeyString(h.counter) === counterKeyString(part.counter),
      )!.limit;
      const total = totals.get(id) ?? { ...part, amount: 0, limit };
      total.amount += part.amount;
      totals.set(id, total);
    }
  }
  return totals;
}

/**
 * The claim of one instance: scheduled → queued, holds recorded, out of the claim index (a holder
 * has no index entry: it is found through its run, holders.ts).
 */
function claimUpdate(withHolds: boolean, withParts = false): string {
  const set = ['#state = :queued', '#queuedAt = :queuedAt'];
  if (withHolds) set.push('#holds = :holds');
  if (withParts) set.push('#holdParts = :parts');
  // A claimed instance waits for nothing: its wait reason goes in the same write.
  const remove = [
    '#claimPk',
    '#claimSk',
    '#waitReason',
    ...(withHolds ? [] : ['#holds']),
    ...(withParts ? [] : ['#holdParts']),
  ];
  return `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`;
}

/** The instance is of this schema version, still scheduled, in the try the scheduler read. */
const claimCondition = both(knownVersion, tiStillAsRead);

/** The shards of a sharded hold's parts, recorded on the instance so its try end lowers exactly them. */
function recordedParts(parts: Part[]): { c: CounterKey; s: number; a: number }[] {
  return parts.filter((p) => p.sharded).map((p) => ({ c: p.counter, s: p.shard, a: p.amount }));
}

function claimAction(table: string, request: ClaimRequest, parts: Part[] = []): TransactWriteItem {
  if (request.schedule) return scheduleClaimAction(table, request, parts);
  const holds = request.holds.map(({ counter, amount }) => ({ counter, amount }));
  const recorded = recordedParts(parts);
  return {
    Update: {
      TableName: table,
      Key: keyOf(keys.ti(request.key)),
      ...updateExpression(claimUpdate(holds.length > 0, recorded.length > 0), claimCondition, {
        ':queued': S('queued'),
        ':queuedAt': N(request.queuedAt),
        ':holds': S(JSON.stringify(holds)),
        ':parts': S(JSON.stringify(recorded)),
        ':v': N(ITEM_VERSION),
        ':expectedState': S('scheduled'),
        ':expectedTry': N(request.tryNumber),
      }),
    },
  };
}

/**
 * Every attribute a task-instance item may carry beside its key (entities.ts `tiItem`, keys.ts
 * `tiIndexes`, the claim's `holdParts`), except `tries`, the history that the claim keeps.
 */
const TI_ATTRIBUTES = [
  'type',
  'v',
  'data',
  'state',
  'tryNumber',
  'queuedAt',
  'startedAt',
  'heartbeatAt',
  'workerId',
  'holds',
  'holdParts',
  'waitReason',
  'claimPk',
  'claimSk',
  'holdPk',
  'holdSk',
  'waitPk',
  'waitSk',
] as const;

/**
 * An instance scheduled and claimed at once (`ClaimRequest.schedule`): one Update that writes the
 * whole item as queued — the record as read with the scheduling change and the claim applied, in
 * no index — creating it if the instance had no item yet (state none, still in its run's pending
 * block: pending.ts), else replacing every attribute but its try history, under the state and try
 * it was read in. One transactional write (2 units) instead of the scheduled put, its `claim`
 * entry, the claim's update and its leaving the index (5).
 */
function scheduleClaimAction(table: string, request: ClaimRequest, parts: Part[]): TransactWriteItem {
  const { read, set } = request.schedule!;
  const subject = tiKeyString(read);
  assertScheduleClaim(read, set, request.tryNumber, subject);
  const holds = request.holds.map(({ counter, amount }) => ({ counter, amount }));
  const item = tiItem({
    ...read,
    ...set,
    state: 'queued',
    tryNumber: request.tryNumber,
    queuedAt: request.queuedAt,
    waitReason: null,
    holds,
  });
  const recorded = recordedParts(parts);
  if (recorded.length > 0) item.holdParts = S(JSON.stringify(recorded));
  const values: Record<string, AttributeValue> = {
    ':v': N(ITEM_VERSION),
    ':expectedState': S(read.state),
    ':expectedTry': N(read.tryNumber),
  };
  const setParts: string[] = [];
  const remove: string[] = [];
  for (const name of TI_ATTRIBUTES) {
    const value = item[name];
    if (value === undefined) remove.push(`#${name}`);
    else {
      setParts.push(`#${name} = :new_${name}`);
      values[`:new_${name}`] = value;
    }
  }
  return {
    Update: {
      TableName: table,
      Key: keyOf(keys.ti(read)),
      ...updateExpression(
        `SET ${setParts.join(', ')} REMOVE ${remove.join(', ')}`,
        scheduleClaimCondition(read.state),
        values,
      ),
    },
  };
}

/**
 * The instance is as the pass read it: of this schema version, in the state and try read — or, for
 * one read in none, without an item yet (a pending block's instance; blocks never change).
 */
function scheduleClaimCondition(readState: string): string {
  const asRead = both(knownVersion, tiStillAsRead);
  return readState === 'none' ? `${itemAbsent} OR (${asRead})` : asRead;
}

/**
 * A counter (shard) raise. The counter lists itself in the `waits` index under `CTRS` (for the reconciler),
 * remembers the last limit it was raised under (`lim`, for parking), and like every change of a
 * counter moves its version `ver` and `changedAt` (so the reconciler can tell a counter that moved
 * while it was being recounted). A shard of a sharded counter also records which shard it is.
 */
const raiseUpdate =
  'SET #type = :counterType, #v = :v, #waitPk = :counters, #waitSk = :counterId, ' +
  '#counterKey = :counterKey, #lim = :limit, #changedAt = :now ADD #used :amount, #ver :one';
const raiseShardUpdate = raiseUpdate.replace(' ADD ', ', #shard = :shard ADD ');

/** A limited raise needs room; an unlimited (-1) one only a counter this code understands. */
function raiseCondition(limited: boolean): string {
  return limited ? both(absentOrKnown, counterHasRoom) : absentOrKnown;
}

/** Raises a counter shard by the batch's total for it. Impossible raises are moved before, never sent. */
function raiseAction(
  table: string,
  total: Pick<Total, 'counter' | 'amount' | 'limit'> & Partial<Total>,
  now: number,
): TransactWriteItem {
  const shard = total.shard ?? 0;
  const share = total.share ?? total.limit;
  const limited = share !== -1;
  const max = limited ? maxBefore(share, total.amount) : null;
  if (limited && max === null) throw new Error(`raise of ${counterKeyString(total.counter)} can never fit`);
  const id = counterKeyString(total.counter);
  return {
    Update: {
      TableName: table,
      Key: keyOf(keys.counterShard(total.counter, shard)),
      ...updateExpression(total.sharded ? raiseShardUpdate : raiseUpdate, raiseCondition(limited), {
        ':counterType': S('counter'),
        ':v': N(ITEM_VERSION),
        ':counters': S('CTRS'),
        ':counterId': S(total.sharded ? `${id}#${shard}` : id),
        ':counterKey': S(JSON.stringify(total.counter)),
        ':limit': N(total.limit),
        ':amount': N(total.amount),
        ':now': N(now),
        ':one': N(1),
        ':shard': N(shard),
        ...(max !== null && { ':max': N(max) }),
      }),
    },
  };
}

/**
 * Keeps, in claim order, the parts that fit `room` on counter shard `id`; the requests whose part
 * does not fit try another shard of that counter next time. Returns whether any moved.
 */
function moveOff(pending: Pending[], id: string, room: number): boolean {
  let left = room;
  let moved = false;
  for (const p of pending) {
    for (const part of p.parts) {
      if (partId(part.counter, part.shard) !== id) continue;
      if (part.amount <= left) {
        left -= part.amount;
        continue;
      }
      const key = counterKeyString(part.counter);
      const tried = p.tried.get(key) ?? new Set<number>();
      tried.add(part.shard);
      p.tried.set(key, tried);
      moved = true;
    }
  }
  return moved;
}

/** Places every request; those with a counter that has no shard left are lost `limit_reached`. */
function placeAll(pending: Pending[], shards: number, result: ClaimResult): Pending[] {
  return pending.filter((p) => {
    const full = place(p, shards);
    if (full) result.lost.push({ key: p.request.key, reason: 'limit_reached', counter: full });
    return !full;
  });
}

/** Places the batch so that no shard's total exceeds its share (moving lower parts), without a write. */
function placeWithin(pending: Pending[], shards: number, result: ClaimResult): Pending[] {
  let rest = placeAll(pending, shards, result);
  for (;;) {
    let moved = false;
    for (const [id, total] of totalsOf(rest)) {
      if (total.share !== -1 && total.amount > total.share) moved = moveOff(rest, id, total.share) || moved;
    }
    if (!moved) return rest;
    rest = placeAll(rest, shards, result);
  }
}

async function claimBatch(
  items: Items,
  batch: ClaimRequest[],
  result: ClaimResult,
  now: number,
  shards: number,
): Promise<void> {
  let pending = placeWithin(
    batch.map((request) => ({ request, tried: new Map(), parts: [] })),
    shards,
    result,
  );
  let token = newToken();
  for (let attempt = 0; pending.length > 0; ) {
    const counters = [...totalsOf(pending).entries()];
    const actions = [
      ...pending.map((p) => claimAction(items.table, p.request, p.parts)),
      ...counters.map(([, t]) => raiseAction(items.table, t, now)),
    ].map(withOldItems);
    const outcome = await transact(items.client, actions, token);
    if (outcome.kind === 'committed') {
      result.claimed.push(...pending.map((p) => p.request.key));
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
    const changed = new Set<Pending>();
    pending.forEach((p, i) => {
      const reason = reasons[i];
      if (reason?.code !== 'ConditionalCheckFailed') return;
      if (reason.item) checkItem(reason.item, 'ti');
      changed.add(p);
      result.lost.push({ key: p.request.key, reason: 'ti_changed' });
    });
    pending = pending.filter((p) => !changed.has(p));
    let moved = false;
    counters.forEach(([id, total], j) => {
      const reason = reasons[before + j];
      if (reason?.code !== 'ConditionalCheckFailed') return;
      if (reason.item) checkItem(reason.item, 'counter');
      const used = num(reason.item?.used) ?? 0;
      moved = moveOff(pending, id, Math.max(0, total.share - used)) || moved;
    });
    pending = placeWithin(pending, shards, result);
    // A cancellation that settled nothing (it should not happen) counts as an attempt, so this ends.
    if (pending.length === before && !moved && changed.size === 0) {
      attempt += 1;
      if (attempt >= MAX_ATTEMPTS) break;
      await backoff(attempt);
    }
    token = newToken();
  }
  for (const p of pending) result.lost.push({ key: p.request.key, reason: 'conflict' });
}

/** The transaction actions a request's counters may need at most: one per shard it could touch. */
function actionIds(request: ClaimRequest, shards: number): string[] {
  return request.holds.flatMap((h) => {
    const n = shardCount(h.counter, h.limit, shards);
    return Array.from({ length: n }, (_, i) => partId(h.counter, i));
  });
}

/**
 * Splits requests into batches whose instances plus counter shards fit one transaction. A request
 * naming an instance already requested earlier is lost at once (one item cannot appear twice in a
 * transaction, and the first request claims it).
 */
function batches(requests: ClaimRequest[], result: ClaimResult, shards = 1): ClaimRequest[][] {
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
    const mine = actionIds(request, shards);
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

/** The counter shards a batch would raise, and by how much, once placed within their shares. */
function planTotals(requests: ClaimRequest[], shards = 1): Map<string, Total> {
  const result: ClaimResult = { claimed: [], lost: [] };
  return totalsOf(
    placeWithin(
      requests.map((request) => ({ request, tried: new Map(), parts: [] })),
      shards,
      result,
    ),
  );
}

async function claim(items: Items, requests: ClaimRequest[], now: number, shards = 1): Promise<ClaimResult> {
  const result: ClaimResult = { claimed: [], lost: [] };
  for (const batch of batches(requests, result, shards)) await claimBatch(items, batch, result, now, shards);
  return result;
}

export {
  batches,
  claim,
  claimAction,
  claimCondition,
  claimUpdate,
  planTotals,
  raiseAction,
  raiseCondition,
  raiseUpdate,
  scheduleClaimAction,
  scheduleClaimCondition,
};
