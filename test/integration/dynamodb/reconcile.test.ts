/**
 * The reconciler on DynamoDB Local: counters recounted from the holders' recorded holds, every
 * drift reported, a repair that only writes a counter not changed since it was read, counters that
 * move while they are recounted left unjudged, and idle counters taken out of the list.
 */
import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { correctCounter } from '#adapters/dynamodb/counters.ts';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { DELIST_AFTER_MS } from '#adapters/dynamodb/holders.ts';
import { Items } from '#adapters/dynamodb/items.ts';
import { IDLE_MS } from '#adapters/dynamodb/reconcile.ts';
import type { TaskInstance } from '#core/model.ts';
import { ddbTest as test } from '../../support/ddb.ts';
import { claimOf, GLOBAL, pool, scheduledTis, usedOf } from './helpers.ts';

/** A lost write nobody saw: the counter moves without a claim or a try end. */
function corrupt(ddb: DynamoDBClient, table: string, pk: string, by: number, bumpVersion = true) {
  return ddb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: pk }, sk: { S: 'CTR' } },
      UpdateExpression: bumpVersion ? 'ADD #used :by, #ver :one' : 'ADD #used :by',
      ExpressionAttributeNames: { '#used': 'used', ...(bumpVersion && { '#ver': 'ver' }) },
      ExpressionAttributeValues: { ':by': { N: String(by) }, ...(bumpVersion && { ':one': { N: '1' } }) },
    }),
  );
}

describe('DynamoDB reconciler', () => {
  test('finds no drift when every counter matches its holders', async ({ ddb, table }) => {
    const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
    const tis = await scheduledTis(store, 5);
    await store.claim(tis.map((t) => claimOf(t, [{ counter: pool('p'), amount: 2, limit: 10 }])));
    await store.endTry({
      key: tis[0]!,
      expect: { state: 'queued', tryNumber: 1 },
      set: { state: 'scheduled' },
    });
    expect(await store.reconcileCounters({ repair: true })).toEqual({
      drift: [],
      repaired: [],
      unsettled: 0,
    });
  });

  test('reports every drifted counter, and repairs it when asked', async ({ ddb, table }) => {
    const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
    const tis = await scheduledTis(store, 3);
    await store.claim(
      tis.map((t) =>
        claimOf(t, [
          { counter: GLOBAL, amount: 1, limit: 32 },
          { counter: pool('p'), amount: 1, limit: 10 },
        ]),
      ),
    );
    await corrupt(ddb, table, 'CTR#pool/p', 2);
    const drift = [{ counter: pool('p'), used: 5, held: 3 }];
    expect(await store.reconcileCounters({ repair: false })).toEqual({ drift, repaired: [], unsettled: 0 });
    expect(await usedOf(store, pool('p'))).toBe(5);
    expect(await store.reconcileCounters({ repair: true })).toEqual({ drift, repaired: drift, unsettled: 0 });
    expect(await store.readCounters([GLOBAL, pool('p')])).toEqual([
      { key: GLOBAL, used: 3 },
      { key: pool('p'), used: 3 },
    ]);
    expect((await store.reconcileCounters({ repair: true })).drift).toEqual([]);
  });

  test('does not judge a counter that changed too recently to be sure every holder is visible', async ({
    ddb,
    table,
  }) => {
    const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 60_000 });
    const [a] = await scheduledTis(store, 1);
    await store.claim([claimOf(a!)]);
    await corrupt(ddb, table, 'CTR#global', 4);
    expect(await store.reconcileCounters({ repair: true })).toEqual({
      drift: [],
      repaired: [],
      unsettled: 1,
    });
    expect(await usedOf(store, GLOBAL)).toBe(5);
    const later = new DynamoDbStateStore(ddb, table, { now: () => Date.now() + 61_000 });
    expect((await later.reconcileCounters({ repair: true })).repaired).toEqual([
      { counter: GLOBAL, used: 5, held: 1 },
    ]);
  });

  test('a repair writes only a counter that has not changed since it was read', async ({ ddb, table }) => {
    const store = new DynamoDbStateStore(ddb, table);
    const [a] = await scheduledTis(store, 1);
    await store.claim([claimOf(a!)]);
    const items = new Items(ddb, table);
    expect(await correctCounter(items, GLOBAL, 0, 0, Date.now())).toBe(false);
    expect(await correctCounter(items, GLOBAL, 1, 0, Date.now())).toBe(true);
    expect(await usedOf(store, GLOBAL)).toBe(0);
    // Its version moved with the repair: a second repair from the same read is refused.
    expect(await correctCounter(items, GLOBAL, 1, 0, Date.now())).toBe(false);
  });

  test('takes a counter idle at zero for a while out of the list, and a raise lists it again', async ({
    ddb,
    table,
  }) => {
    const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
    const [a, b] = await scheduledTis(store, 2);
    await store.claim([claimOf(a!)]);
    await store.endTry({ key: a!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
    expect(await store.listCounters()).toEqual([{ key: GLOBAL, used: 0 }]);
    await store.reconcileCounters({ repair: true });
    expect(await store.listCounters()).toEqual([{ key: GLOBAL, used: 0 }]);
    const later = new DynamoDbStateStore(ddb, table, { now: () => Date.now() + IDLE_MS + 1 });
    await later.reconcileCounters({ repair: true });
    expect(await store.listCounters()).toEqual([]);
    await store.claim([claimOf(b!)]);
    expect(await store.listCounters()).toEqual([{ key: GLOBAL, used: 1 }]);
    expect(await store.reconcileCounters({ repair: true })).toEqual({
      drift: [],
      repaired: [],
      unsettled: 0,
    });
  });

  describe('holders found through their runs (holders.ts)', () => {
    const listedAs = async (ddb: DynamoDBClient, table: string, runId = 'manual__r1') =>
      (
        await ddb.send(
          new GetItemCommand({ TableName: table, Key: { pk: { S: `RUN#etl#${runId}` }, sk: { S: 'RUN' } } }),
        )
      ).Item?.activePk?.S ?? null;

    test('a run that finishes with nothing live leaves the list at once', async ({ ddb, table }) => {
      const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
      const [a] = await scheduledTis(store, 1);
      await store.claim([claimOf(a!)]);
      await store.endTry({ key: a!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'success' } });
      expect(await listedAs(ddb, table)).toBe('RUNS');
      await store.updateRun('etl', 'manual__r1', { state: 'running' }, { state: 'success' });
      expect(await listedAs(ddb, table)).toBeNull();
    });

    test('a run marked finished while it holds slots stays listed until the reconciler sees nothing live', async ({
      ddb,
      table,
    }) => {
      const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
      const [a] = await scheduledTis(store, 1);
      await store.claim([claimOf(a!)]);
      await store.updateRun('etl', 'manual__r1', { state: 'running' }, { state: 'failed' });
      expect(await listedAs(ddb, table)).toBe('RUNS');
      // Listed, but not unfinished: the passes never see it.
      expect((await store.listUnfinishedRuns()).items).toEqual([]);
      // Without the listing the reconciler would find no holder and "repair" the held slot away.
      expect(await store.reconcileCounters({ repair: true })).toEqual({
        drift: [],
        repaired: [],
        unsettled: 0,
      });
      expect(await listedAs(ddb, table)).toBe('RUNS');
      await store.endTry({ key: a!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
      expect(await store.reconcileCounters({ repair: true })).toEqual({
        drift: [],
        repaired: [],
        unsettled: 0,
      });
      expect(await listedAs(ddb, table)).toBeNull();
      expect(await usedOf(store, GLOBAL)).toBe(0);
    });

    /** What a pass that read the run as running does after all: none → scheduled, then a claim of it. */
    const latePassClaims = async (store: DynamoDbStateStore, a: TaskInstance) => {
      const { applied } = await store.updateTis([
        { key: a, expect: { state: 'none', tryNumber: 0 }, set: { state: 'scheduled', tryNumber: 1 } },
      ]);
      expect(applied).toHaveLength(1);
      expect((await store.claim([claimOf({ ...a, tryNumber: 1 })])).claimed).toHaveLength(1);
    };

    /** A run whose one instance is still to run, finished by a mark's first write (the run's). */
    const finishedWithInstanceToRun = async (
      ddb: DynamoDBClient,
      table: string,
      state: 'success' | 'failed',
    ) => {
      const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
      const [a] = await scheduledTis(store, 1, () => ({ state: 'none', tryNumber: 0 }));
      const endedAt = Date.now();
      await store.updateRun('etl', 'manual__r1', { state: 'running' }, { state, endedAt });
      return { store, a: a!, endedAt };
    };

    // A mark writes the run first and settles its instances after it; a pass that read the run as
    // running before the mark may still schedule one of them, and a claim may take it, once the
    // finishing write has looked. The run must stay listed, or its holder is found by nobody and
    // the reconciler "repairs" the held slot away.
    test('a run that finishes with an instance still to run stays listed: a late pass may still claim it', async ({
      ddb,
      table,
    }) => {
      const { store, a } = await finishedWithInstanceToRun(ddb, table, 'success');
      expect(await listedAs(ddb, table)).toBe('RUNS');
      expect((await store.listUnfinishedRuns()).items).toEqual([]);
      await latePassClaims(store, a);
      expect((await store.listHoldingTis()).items.map((t) => t.taskId)).toEqual(['t000']);
      expect(await store.reconcileCounters({ repair: true })).toEqual({
        drift: [],
        repaired: [],
        unsettled: 0,
      });
      expect(await usedOf(store, GLOBAL)).toBe(1);
    });

    test('a finished run stays listed, with nothing live, until no pass that read it as running can be left', async ({
      ddb,
      table,
    }) => {
      // The mark's process dies after the run's write, before it settles the instance.
      const { store, a, endedAt } = await finishedWithInstanceToRun(ddb, table, 'failed');
      await store.reconcileCounters({ repair: true });
      expect(await listedAs(ddb, table)).toBe('RUNS');
      // A pass that read the run as running claims the instance after the reconciler looked.
      await latePassClaims(store, a);
      expect(await store.reconcileCounters({ repair: true })).toEqual({
        drift: [],
        repaired: [],
        unsettled: 0,
      });
      await store.endTry({ key: a, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
      // Nothing live, but ended just now: a pass that read it as running may still be about.
      await store.reconcileCounters({ repair: true });
      expect(await listedAs(ddb, table)).toBe('RUNS');
      const later = new DynamoDbStateStore(ddb, table, {
        reconcileSettleMs: 0,
        now: () => endedAt + DELIST_AFTER_MS + 1,
      });
      await later.reconcileCounters({ repair: true });
      expect(await listedAs(ddb, table)).toBeNull();
      expect(await usedOf(store, GLOBAL)).toBe(0);
    });

    test('the delisting leaves a run that was requeued since it was read (a clear) listed', async ({
      ddb,
      table,
    }) => {
      const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
      await scheduledTis(store, 1, () => ({ state: 'success' }));
      await store.updateRun('etl', 'manual__r1', { state: 'running' }, { state: 'failed' });
      expect(await listedAs(ddb, table)).toBeNull();
      await store.updateRun('etl', 'manual__r1', { state: 'failed' }, { state: 'queued' });
      expect(await listedAs(ddb, table)).toBe('RUNS');
      await store.reconcileCounters({ repair: true });
      expect(await listedAs(ddb, table)).toBe('RUNS');
      expect((await store.listUnfinishedRuns()).items.map((r) => r.state)).toEqual(['queued']);
    });

    test('walks the holders of many runs page by page, each once, while runs finish between pages', async ({
      ddb,
      table,
    }) => {
      const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
      const runs = ['manual__a', 'manual__b', 'manual__c', 'manual__d'];
      const all: TaskInstance[] = [];
      for (const [i, runId] of runs.entries())
        all.push(...(await scheduledTis(store, 2 + i, () => ({}), runId)));
      // Every instance but the last of each run is claimed; the rest stay scheduled (live, not holding).
      const claimed = all.filter((t, i) => all[i + 1]?.runId === t.runId);
      await store.claim(claimed.map((t) => claimOf(t, [{ counter: GLOBAL, amount: 1, limit: -1 }])));
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await store.listHoldingTis({ limit: 2, cursor });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((t) => `${t.runId}/${t.taskId}`));
        cursor = page.next;
        // Between pages the first run ends: its holder's try ends and the run finishes (delisted).
        if (pages === 0) {
          for (const t of claimed.filter((c) => c.runId === 'manual__a'))
            await store.endTry({
              key: t,
              expect: { state: 'queued', tryNumber: 1 },
              set: { state: 'success' },
            });
          await store.updateTis(
            all
              .filter((t) => t.runId === 'manual__a' && !claimed.includes(t))
              .map((t) => ({
                key: t,
                expect: { state: 'scheduled', tryNumber: 1 },
                set: { state: 'removed' },
              })),
          );
          await store.updateRun('etl', 'manual__a', { state: 'running' }, { state: 'success' });
        }
        pages += 1;
      } while (cursor);
      const expected = claimed.map((t) => `${t.runId}/${t.taskId}`);
      expect(new Set(seen).size).toBe(seen.length);
      // Run a's one holder was in the first page (it sorts first); every other holder is seen once.
      expect(seen.sort()).toEqual(expected.sort());
      expect(pages).toBeGreaterThan(3);
    });

    test('an instance claimed by the code before (listed in `holding`) is found, and its end takes it out', async ({
      ddb,
      table,
    }) => {
      const store = new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0 });
      const [a] = await scheduledTis(store, 1);
      await store.claim([claimOf(a!)]);
      const key = { pk: { S: 'RUN#etl#manual__r1' }, sk: { S: 'TI#t000#-1' } };
      await ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET holdPk = :h, holdSk = :s',
          ExpressionAttributeValues: { ':h': { S: 'HOLD' }, ':s': { S: 'etl#manual__r1#t000#-1' } },
        }),
      );
      expect((await store.listHoldingTis()).items.map((t) => t.taskId)).toEqual(['t000']);
      await store.endTry({ key: a!, expect: { state: 'queued', tryNumber: 1 }, set: { state: 'failed' } });
      const item = (await ddb.send(new GetItemCommand({ TableName: table, Key: key }))).Item!;
      expect(item.holdPk).toBeUndefined();
      expect(await store.reconcileCounters({ repair: true })).toEqual({
        drift: [],
        repaired: [],
        unsettled: 0,
      });
    });
  });
});
