/**
 * Scheduling and claiming in one write (ClaimRequest.schedule) on DynamoDB Local: an instance of a
 * pending block goes none → queued in the claim's transaction, creating its item; racing writers
 * that schedule it the old way or claim it from the `claim` index never make it count twice.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import type { TaskInstance } from '#core/model.ts';
import type { ClaimRequest } from '#ports';
import { ddbTest as test } from '../../support/ddb.ts';
import { T0 } from '../../support/factories.ts';
import { CountingClient, pool, scheduledTis, usedOf } from './helpers.ts';

const POOL = pool('race');

function scheduleClaim(t: TaskInstance, limit: number): ClaimRequest {
  const set = { state: 'scheduled' as const, tryNumber: 1, scheduledAt: T0, waitReason: null };
  return {
    key: t,
    tryNumber: 1,
    queuedAt: T0 + 1,
    holds: [{ counter: POOL, amount: 1, limit }],
    schedule: { read: t, set },
  };
}

const toScheduled = (t: TaskInstance) => ({
  key: t,
  expect: { state: 'none' as const, tryNumber: 0 },
  set: { state: 'scheduled' as const, tryNumber: 1, scheduledAt: T0 },
});

describe('DynamoDB store schedule claims', () => {
  test('create the item of a pending instance as queued, in no index', async ({ ddb, table, store }) => {
    const [a] = await scheduledTis(store, 1, () => ({ state: 'none', tryNumber: 0, scheduledAt: null }));
    const key = { pk: { S: 'RUN#etl#manual__r1' }, sk: { S: 'TI#t000#-1' } };
    expect((await ddb.send(new GetItemCommand({ TableName: table, Key: key }))).Item).toBeUndefined();
    expect((await store.claim([scheduleClaim(a!, 4)])).claimed).toHaveLength(1);
    const item = (await ddb.send(new GetItemCommand({ TableName: table, Key: key }))).Item!;
    expect(item.state).toEqual({ S: 'queued' });
    expect(item.tryNumber).toEqual({ N: '1' });
    for (const index of ['claimPk', 'claimSk', 'holdPk', 'holdSk', 'waitPk', 'waitSk', 'waitReason'])
      expect(item[index]).toBeUndefined();
    expect(await store.getTi(a!)).toMatchObject({ state: 'queued', scheduledAt: T0, pool: 'default_pool' });
  });

  test('race with old-style scheduling and index claims without counting an instance twice', async ({
    table,
    store,
  }) => {
    const clients = Array.from({ length: 4 }, () => new CountingClient());
    const stores = clients.map((c) => new DynamoDbStateStore(c, table));
    try {
      for (let round = 0; round < 3; round += 1) {
        const runId = `manual__race${round}`;
        const limit = 5;
        const tis = await scheduledTis(
          store,
          12,
          () => ({ state: 'none', tryNumber: 0, scheduledAt: null, pool: 'race' }),
          runId,
        );
        // Two passes schedule-and-claim (writing scheduled what a limit refused), one schedules the
        // old way, one claims whatever the index lists.
        const passes = [0, 1].map(async (i) => {
          const result = await stores[i]!.claim(tis.map((t) => scheduleClaim(t, limit)));
          const refused = result.lost.filter((l) => l.reason !== 'ti_changed').map((l) => l.key.taskId);
          await stores[i]!.updateTis(tis.filter((t) => refused.includes(t.taskId)).map(toScheduled));
        });
        const oldStyle = stores[2]!.updateTis(tis.map(toScheduled));
        const fromIndex = (async () => {
          const listed = await stores[3]!.listClaimCandidates({ pool: 'race', limit: 50 });
          await stores[3]!.claim(
            listed.items.map((t) => ({
              key: t,
              tryNumber: t.tryNumber,
              queuedAt: T0 + 2,
              holds: [{ counter: POOL, amount: 1, limit }],
            })),
          );
        })();
        await Promise.all([...passes, oldStyle, fromIndex]);

        const after = (await store.listTis('etl', runId)).filter((t) => t.pool === 'race');
        const queued = after.filter((t) => t.state === 'queued');
        const scheduled = after.filter((t) => t.state === 'scheduled');
        expect(queued.length + scheduled.length).toBe(12);
        expect(queued.every((t) => t.tryNumber === 1 && t.holds.length === 1)).toBe(true);
        expect(scheduled.every((t) => t.tryNumber === 1 && t.holds.length === 0)).toBe(true);
        // Every queued instance raised the counter once, and only those.
        const used = await usedOf(store, POOL);
        expect(used).toBe(queued.length);
        expect(used).toBeLessThanOrEqual(limit);
        const listed = await store.listClaimCandidates({ pool: 'race', limit: 50 });
        const mine = listed.items.filter((t) => t.runId === runId);
        expect(mine.map((t) => t.taskId).sort()).toEqual(scheduled.map((t) => t.taskId).sort());
        // Release this round's holds so the next starts from an empty pool.
        for (const t of queued) {
          const end = { key: t, expect: { state: 'queued' as const, tryNumber: 1 } };
          expect(await store.endTry({ ...end, set: { state: 'success', endedAt: T0 + 3 } })).toBe(true);
        }
        expect(await usedOf(store, POOL)).toBe(0);
      }
    } finally {
      for (const c of clients) c.destroy();
    }
  });
});
