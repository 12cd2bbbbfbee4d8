/**
 * Claims and try ends: the task-instance write and every counter it touches in ONE transaction.
 *
 *   claim batch:  TI scheduled(try n) → queued   ┐
 *                 counter A  ADD +Σ  if room     ├ TransactWriteItems (all or nothing)
 *                 counter B  ADD +Σ  if room     ┘
 *   cancelled → a TI that changed is lost (`ti_changed`); a counter without room sheds its last
 *   requests (`limit_reached`) and the rest is retried — never partially applied.
 */
import {
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { type CounterKey, counterKeyString, type TaskInstance } from '#core/model.ts';
import type { ClaimRequest, ClaimResult } from '#ports';
import { both, counterHasRoom, maxBefore, tiStillAsRead } from './conditions.ts';
import { type Item, type Items, keyOf, N, S } from './items.ts';
import { keys } from './keys.ts';

/** DynamoDB's limit on actions per transaction. */
const MAX_ACTIONS = 100;
const MAX_ATTEMPTS = 8;

function tiPut(items: Items, item: Item, expect: { state: string; tryNumber: number }): TransactWriteItem {
  return {
    Put: {
      TableName: items.table,
      Item: item,
      ConditionExpression: both(tiStillAsRead),
      ExpressionAttributeNames: { '#state': 'state', '#tryNumber': 'tryNumber' },
      ExpressionAttributeValues: { ':expectedState': S(expect.state), ':expectedTry': N(expect.tryNumber) },
    },
  };
}

function counterRaise(
  items: Items,
  counter: CounterKey,
  amount: number,
  max: number | null,
): TransactWriteItem {
  return {
    Update: {
      TableName: items.table,
      Key: keyOf(keys.counter(counter)),
      // The counter lists itself (activePk) with its key, so the reconciler can find every counter.
      UpdateExpression:
        'SET #type = :type, #v = :v, activePk = :list, activeSk = :id, #key = :key ADD #used :n',
      ...(max === null ? {} : { ConditionExpression: counterHasRoom }),
      ExpressionAttributeNames: { '#used': 'used', '#type': 'type', '#v': 'v', '#key': 'counterKey' },
      ExpressionAttributeValues: {
        ':n': N(amount),
        ':list': S('CTRS'),
        ':id': S(counterKeyString(counter)),
        ':key': S(JSON.stringify(counter)),
        ':type': S('counter'),
        ':v': N(1),
        ...(max === null ? {} : { ':max': N(max) }),
      },
    },
  };
}

function counterLower(items: Items, counter: CounterKey, amount: number): TransactWriteItem {
  return {
    Update: {
      TableName: items.table,
      Key: keyOf(keys.counter(counter)),
      UpdateExpression: 'ADD #used :minus',
      ConditionExpression: '#used >= :amount',
      ExpressionAttributeNames: { '#used': 'used' },
      ExpressionAttributeValues: { ':minus': N(-amount), ':amount': N(amount) },
    },
  };
}

type Reason = { Code?: string };

function reasonsOf(error: unknown): Reason[] | null {
  return error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Claims a batch whose task instances were read as `current`. `toItem` builds the queued item.
 */
async function claimBatch(
  items: Items,
  requests: { request: ClaimRequest; current: TaskInstance }[],
  toItem: (ti: TaskInstance) => Item,
): Promise<ClaimResult> {
  const result: ClaimResult = { claimed: [], lost: [] };
  let pending = [...requests];
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    // Sum each counter over the batch; a counter that cannot fit even once sheds its last request.
    const totals = new Map<string, { counter: CounterKey; amount: number; limit: number }>();
    for (const { request } of pending) {
      for (const hold of request.holds) {
        const id = counterKeyString(hold.counter);
        const t = totals.get(id) ?? { counter: hold.counter, amount: 0, limit: hold.limit };
        t.amount += hold.amount;
        totals.set(id, t);
      }
    }
    const impossible = [...totals.values()].find(
      (t) => t.limit !== -1 && maxBefore(t.limit, t.amount) === null,
    );
    if (impossible) {
      shed(pending, impossible.counter, result);
      pending = pending.filter((p) => !result.lost.some((l) => l.key === p.request.key));
      continue;
    }
    const actions: TransactWriteItem[] = pending.map(({ request, current }) =>
      tiPut(
        items,
        toItem({
          ...current,
          state: 'queued',
          queuedAt: request.queuedAt,
          holds: request.holds.map(({ counter, amount }) => ({ counter, amount })),
        }),
        {
          state: 'scheduled',
          tryNumber: request.tryNumber,
        },
      ),
    );
    const counters = [...totals.values()];
    for (const t of counters)
      actions.push(
        counterRaise(items, t.counter, t.amount, t.limit === -1 ? null : maxBefore(t.limit, t.amount)),
      );
    try {
      await items.client.send(new TransactWriteItemsCommand({ TransactItems: actions }));
      result.claimed.push(...pending.map((p) => p.request.key));
      return result;
    } catch (error) {
      const reasons = reasonsOf(error);
      if (!reasons) throw error;
      const failedTis = pending.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed');
      const failedCounter = counters.find(
        (_, i) => reasons[pending.length + i]?.Code === 'ConditionalCheckFailed',
      );
      if (failedTis.length > 0) {
        for (const p of failedTis) result.lost.push({ key: p.request.key, reason: 'ti_changed' });
        pending = pending.filter((p) => !failedTis.includes(p));
      } else if (failedCounter) {
        shed(pending, failedCounter.counter, result);
        pending = pending.filter((p) => !result.lost.some((l) => l.key === p.request.key));
      } else if (attempt >= MAX_ATTEMPTS) {
        for (const p of pending) result.lost.push({ key: p.request.key, reason: 'conflict' });
        return result;
      } else {
        // TransactionConflict or throttling: back off with jitter and try again.
        await sleep(Math.random() * 20 * 2 ** attempt);
      }
    }
  }
  return result;
}

/** Drops the last pending request that raises `counter` (the lowest in claim order). */
function shed(pending: { request: ClaimRequest }[], counter: CounterKey, result: ClaimResult): void {
  const id = counterKeyString(counter);
  for (let i = pending.length - 1; i >= 0; i -= 1) {
    const { request } = pending[i]!;
    if (request.holds.some((h) => counterKeyString(h.counter) === id)) {
      result.lost.push({ key: request.key, reason: 'limit_reached', counter });
      return;
    }
  }
}

/** Splits requests into transactions of at most 100 actions (instances + distinct counters). */
function chunks<T extends { request: ClaimRequest }>(requests: T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let counters = new Set<string>();
  for (const r of requests) {
    const next = new Set([...counters, ...r.request.holds.map((h) => counterKeyString(h.counter))]);
    if (current.length + 1 + next.size > MAX_ACTIONS && current.length > 0) {
      out.push(current);
      current = [];
      counters = new Set(r.request.holds.map((h) => counterKeyString(h.counter)));
    } else {
      counters = next;
    }
    current.push(r);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Ends a try and lowers exactly its holds; false if the try already ended. Conflicts are retried. */
async function endTryTransaction(
  items: Items,
  current: TaskInstance,
  next: Item,
  expect: { state: string; tryNumber: number },
): Promise<boolean> {
  const actions = [
    tiPut(items, next, expect),
    ...current.holds.map((h) => counterLower(items, h.counter, h.amount)),
  ];
  for (let attempt = 0; ; attempt += 1) {
    try {
      await items.client.send(new TransactWriteItemsCommand({ TransactItems: actions }));
      return true;
    } catch (error) {
      const reasons = reasonsOf(error);
      if (!reasons) throw error;
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
      const broken = current.holds.find((_, i) => reasons[i + 1]?.Code === 'ConditionalCheckFailed');
      if (broken)
        throw new Error(
          `counter ${counterKeyString(broken.counter)} would go below zero: a slot was released twice`,
        );
      if (attempt >= MAX_ATTEMPTS) throw error;
      await sleep(Math.random() * 20 * 2 ** attempt);
    }
  }
}

export { chunks, claimBatch, endTryTransaction };
