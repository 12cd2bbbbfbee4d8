/**
 * The claim index's sort key must order exactly as the core's claim order (compareClaimOrder), for
 * every priority (negative ones too) and logical date (before 1970 too); claim batches must fit
 * DynamoDB's 100 actions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batches, planTotals } from '#adapters/dynamodb/claim.ts';
import { claimSortKey, tiIndexes } from '#adapters/dynamodb/keys.ts';
import { partsOf, shardCount, shareOf } from '#adapters/dynamodb/shards.ts';
import { compareClaimOrder } from '#core/claim-order.ts';
import type { TaskInstance } from '#core/model.ts';
import type { ClaimRequest, ClaimResult } from '#ports';
import { ti } from '../../support/factories.ts';

const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,6}$/);
const instance = fc
  .record({
    priorityWeight: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    logicalDate: fc.integer({ min: -8_640_000_000_000, max: 8_640_000_000_000 }),
    dagId: id,
    runId: id,
    taskId: id,
    mapIndex: fc.integer({ min: -1, max: 100_000 }),
  })
  .map((fields) => ti(fields));

const sign = (n: number) => Math.sign(n);

describe('claimSortKey', () => {
  it('orders instances exactly as the core claim order does', () => {
    fc.assert(
      fc.property(instance, instance, (a, b) => {
        const byKey = claimSortKey(a) < claimSortKey(b) ? -1 : claimSortKey(a) > claimSortKey(b) ? 1 : 0;
        expect(byKey).toBe(sign(compareClaimOrder(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it('puts a negative priority after zero and a 1969 date before 1970', () => {
    const zero = claimSortKey(ti({ priorityWeight: 0 }));
    expect(claimSortKey(ti({ priorityWeight: -1 })) > zero).toBe(true);
    expect(claimSortKey(ti({ priorityWeight: 1 })) < zero).toBe(true);
    expect(claimSortKey(ti({ logicalDate: -1 })) < claimSortKey(ti({ logicalDate: 0 }))).toBe(true);
  });
});

describe('tiIndexes', () => {
  it.each([
    { state: 'scheduled', listed: ['claimPk', 'claimSk'] },
    // Holders have no index entry: they are found through their runs (holders.ts).
    { state: 'queued', listed: [] },
    { state: 'running', listed: [] },
    { state: 'up_for_retry', listed: ['waitPk', 'waitSk'] },
    { state: 'up_for_reschedule', listed: ['waitPk', 'waitSk'] },
    { state: 'success', listed: [] },
    { state: 'none', listed: [] },
  ] as const)('lists a $state instance in exactly its index (sparse)', ({ state, listed }) => {
    const indexes = tiIndexes(ti({ state, nextRetryAt: 5, rescheduleAt: 5 }) as TaskInstance);
    const present = Object.entries(indexes)
      .filter(([, v]) => v !== null)
      .map(([k]) => k);
    expect(present).toEqual(listed);
  });
});

describe('claim batches', () => {
  const request = (i: number, counters: string[]): ClaimRequest => ({
    key: { dagId: 'd', runId: 'r', taskId: `t${i}`, mapIndex: -1 },
    tryNumber: 1,
    queuedAt: 0,
    holds: counters.map((c) => ({ counter: { kind: 'dag', dagId: c }, amount: 1, limit: -1 })),
  });

  it('keeps instances plus distinct counters within 100 actions per transaction', () => {
    const result: ClaimResult = { claimed: [], lost: [] };
    const requests = Array.from({ length: 250 }, (_, i) => request(i, ['global', `own${i % 40}`]));
    const out = batches(requests, result);
    for (const batch of out) expect(batch.length + planTotals(batch).size).toBeLessThanOrEqual(100);
    // Greedy: a batch closes only when one more request could overflow it.
    for (const batch of out.slice(0, -1))
      expect(batch.length + planTotals(batch).size).toBeGreaterThanOrEqual(99);
    expect(out.flat()).toHaveLength(250);
  });

  it('loses a second request for the same instance at once', () => {
    const result: ClaimResult = { claimed: [], lost: [] };
    const out = batches([request(1, []), request(1, []), request(2, [])], result);
    expect(out.flat()).toHaveLength(2);
    expect(result.lost).toEqual([{ key: request(1, []).key, reason: 'ti_changed' }]);
  });

  it('splits a sharded limit into shares that sum to it, and spreads a heavy hold over shards', () => {
    expect([0, 1, 2, 3].map((i) => shareOf(10, 4, i))).toEqual([3, 3, 2, 2]);
    expect(shardCount({ kind: 'pool', pool: 'p' }, 3, 8)).toBe(3);
    expect(shardCount({ kind: 'dag', dagId: 'd' }, 30, 8)).toBe(1);
    expect(shardCount({ kind: 'global' }, -1, 8)).toBe(8);
    const key = { dagId: 'd', runId: 'r', taskId: 't', mapIndex: -1 };
    const heavy = partsOf({ counter: { kind: 'pool', pool: 'p' }, amount: 5, limit: 8 }, key, 4, new Set());
    expect(heavy?.map((p) => p.amount)).toEqual([2, 1, 1, 1]);
    expect(new Set(heavy?.map((p) => p.shard)).size).toBe(4);
    const tried = new Set([0, 1, 2]);
    const last = partsOf({ counter: { kind: 'pool', pool: 'p' }, amount: 2, limit: 8 }, key, 4, tried);
    expect(last).toEqual([
      { counter: { kind: 'pool', pool: 'p' }, shard: 3, amount: 2, share: 2, sharded: true },
    ]);
    expect(
      partsOf({ counter: { kind: 'pool', pool: 'p' }, amount: 1, limit: 8 }, key, 4, new Set([0, 1, 2, 3])),
    ).toBeNull();
  });

  it('places a batch so that no shard is asked for more than its share', () => {
    const pool = { kind: 'pool', pool: 'p' } as const;
    const requests = Array.from({ length: 8 }, (_, i) => ({
      ...request(i, []),
      holds: [{ counter: pool, amount: 1, limit: 8 }],
    }));
    const totals = [...planTotals(requests, 4).values()];
    expect(totals.every((t) => t.amount <= t.share)).toBe(true);
    expect(totals.reduce((sum, t) => sum + t.amount, 0)).toBe(8);
  });

  it('sums each counter over the batch', () => {
    const totals = planTotals([request(1, ['a', 'b']), request(2, ['a'])]);
    expect([...totals.values()].map((t) => [t.counter, t.amount])).toEqual([
      [{ kind: 'dag', dagId: 'a' }, 2],
      [{ kind: 'dag', dagId: 'b' }, 1],
    ]);
  });
});
