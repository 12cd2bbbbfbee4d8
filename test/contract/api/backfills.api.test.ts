/** Backfills through the API, on DynamoDB Local: dry run, create, one at a time, progress, cancel. */
import { describe, expect } from 'vitest';
import { dag } from '#sdk/index.ts';
import { makeApiHarness, seg, T0 } from '../../support/api-harness.ts';
import { ddbTest as test } from '../../support/ddb.ts';

const daily = dag('daily', { schedule: '@daily', startDate: '2025-12-01' }, (d) => {
  d.task('extract', async () => 1);
});

const DAY = 86_400_000;

async function setUp(store: Parameters<typeof makeApiHarness>[0]) {
  const h = makeApiHarness(store);
  // Paused: only the backfill creates runs.
  await h.register(daily, { paused: true });
  return h;
}

describe('API: backfills', () => {
  test('previews a backfill with a dry run and creates nothing', async ({ store }) => {
    const h = await setUp(store);
    const res = await h.call('POST', '/api/v1/backfills', {
      dagId: 'daily',
      from: '2025-12-01',
      to: '2025-12-03',
      dryRun: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.dryRun).toBe(true);
    expect(res.body.backfill).toBeNull();
    expect(
      res.body.plan.map((p: { logicalDate: string; action: string }) => [p.logicalDate, p.action]),
    ).toEqual([
      ['2025-12-01T00:00:00.000Z', 'create'],
      ['2025-12-02T00:00:00.000Z', 'create'],
      ['2025-12-03T00:00:00.000Z', 'create'],
    ]);
    expect((await store.listRuns('daily')).items).toEqual([]);
    expect(await store.listBackfills('daily')).toEqual([]);
  });

  test('creates a backfill, refuses a second one, and reports progress up to 100 %', async ({ store }) => {
    // Prepare: one logical date already has a successful run.
    const h = await setUp(store);
    await h.call('POST', '/api/v1/dags/daily/runs', {
      runId: 'existing',
      logicalDate: '2025-12-03',
    });
    await store.updateDag(
      'daily',
      (await store.getDag('daily'))!.updatedAt,
      { paused: false },
      h.clock.now(),
    );
    await h.drain();
    await store.updateDag('daily', (await store.getDag('daily'))!.updatedAt, { paused: true }, h.clock.now());
    const body = {
      dagId: 'daily',
      from: '2025-12-01',
      to: '2025-12-04',
      maxActiveRuns: 2,
      runBackwards: true,
    };
    // Act
    const created = await h.call('POST', '/api/v1/backfills', body);
    // Assess
    expect(created.status).toBe(201);
    const { backfill } = created.body;
    expect(backfill).toMatchObject({
      dagId: 'daily',
      state: 'running',
      maxActiveRuns: 2,
      runBackwards: true,
    });
    expect(backfill.progress).toMatchObject({
      total: 3,
      queued: 3,
      success: 0,
      skipped: 1,
      fraction: 0,
      etaMs: null,
    });
    expect(
      created.body.plan.map((p: { action: string; reason: string | null }) => [p.action, p.reason]),
    ).toEqual([
      ['create', null],
      ['skip', 'already exists'],
      ['create', null],
      ['create', null],
    ]);
    // The same request again is its retry: the same backfill, nothing created twice.
    const retried = await h.call('POST', '/api/v1/backfills', body);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ replayed: true, backfill: { backfillId: backfill.backfillId } });
    // Another request while it runs is refused.
    const second = await h.call('POST', '/api/v1/backfills', { ...body, maxActiveRuns: 3 });
    expect(second.status).toBe(409);
    expect(second.body.message).toMatch(/already has an unfinished backfill/);
    expect((await store.listBackfills('daily')).length).toBe(1);
    const own = (await store.listRuns('daily')).items.filter((r) => r.backfillId === backfill.backfillId);
    expect(own).toHaveLength(3);

    await store.updateDag(
      'daily',
      (await store.getDag('daily'))!.updatedAt,
      { paused: false },
      h.clock.now(),
    );
    await h.drain();
    const done = await h.call('GET', `/api/v1/backfills/${seg(backfill.backfillId)}`);
    expect(done.body).toMatchObject({ state: 'completed' });
    expect(done.body.progress).toMatchObject({
      total: 3,
      success: 3,
      queued: 0,
      running: 0,
      fraction: 1,
      etaMs: 0,
    });
    const list = await h.call('GET', '/api/v1/backfills?dagId=daily');
    expect(list.body.items.map((b: { backfillId: string }) => b.backfillId)).toEqual([backfill.backfillId]);
  });

  test('cancels a backfill: queued runs fail, nothing more starts, a second cancel conflicts', async ({
    store,
  }) => {
    const h = await setUp(store);
    const { body } = await h.call('POST', '/api/v1/backfills', {
      dagId: 'daily',
      from: '2025-12-01',
      to: '2025-12-05',
      maxActiveRuns: 1,
    });
    await store.updateDag(
      'daily',
      (await store.getDag('daily'))!.updatedAt,
      { paused: false },
      h.clock.now(),
    );
    await h.pass();
    const id = seg(body.backfill.backfillId);
    const cancelled = await h.call('POST', `/api/v1/backfills/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    // Its window held two runs (one running, one queued); the other three dates were never created.
    expect(cancelled.body.progress).toMatchObject({ total: 2, pending: 0, running: 1, failed: 1, queued: 0 });
    const runs = (await store.listRuns('daily')).items;
    expect(runs.filter((r) => r.note === 'backfill cancelled')).toHaveLength(1);
    const own = (r: { backfillId: string | null }) => r.backfillId === body.backfill.backfillId;
    expect(runs.filter(own)).toHaveLength(2);
    await h.drain();
    const after = await h.call('GET', `/api/v1/backfills/${id}`);
    expect(after.body.progress).toMatchObject({ success: 1, failed: 1, running: 0 });
    expect(after.body.completedAt).not.toBeNull();
    expect((await store.listRuns('daily')).items.filter(own)).toHaveLength(2);
    expect((await h.call('POST', `/api/v1/backfills/${id}/cancel`)).status).toBe(409);
  });

  test('cancels with failRunning: its running runs are marked failed too', async ({ store }) => {
    const h = await setUp(store);
    const { body } = await h.call('POST', '/api/v1/backfills', {
      dagId: 'daily',
      from: '2025-12-01',
      to: '2025-12-02',
    });
    await store.updateDag(
      'daily',
      (await store.getDag('daily'))!.updatedAt,
      { paused: false },
      h.clock.now(),
    );
    await h.pass();
    const res = await h.call('POST', `/api/v1/backfills/${seg(body.backfill.backfillId)}/cancel`, {
      failRunning: true,
    });
    expect(res.body.progress).toMatchObject({ running: 0, failed: 2 });
    expect(res.body.completedAt).not.toBeNull();
  });

  test.for([
    { case: 'from after to', body: { dagId: 'daily', from: '2025-12-05', to: '2025-12-01' }, field: 'from' },
    { case: 'a bad date', body: { dagId: 'daily', from: '2025-13-45', to: '2025-12-01' }, field: 'from' },
    {
      case: 'an unknown reprocess behaviour',
      body: { dagId: 'daily', from: '2025-12-01', to: '2025-12-02', reprocessBehavior: 'all' },
      field: 'reprocessBehavior',
    },
    {
      case: 'maxActiveRuns 0',
      body: { dagId: 'daily', from: '2025-12-01', to: '2025-12-02', maxActiveRuns: 0 },
      field: 'maxActiveRuns',
    },
    {
      case: 'a range with no ended interval',
      body: { dagId: 'daily', from: '2026-02-01', to: '2026-02-03' },
      field: 'from',
    },
    { case: 'no DAG id', body: { from: '2025-12-01', to: '2025-12-02' }, field: 'dagId' },
  ])('refuses a backfill with $case, naming the field, and creates nothing', async (c, { store }) => {
    const h = await setUp(store);
    const res = await h.call('POST', '/api/v1/backfills', c.body);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(c.field);
    expect(await store.listBackfills('daily')).toEqual([]);
    expect((await store.listRuns('daily')).items).toEqual([]);
  });

  test('answers 404 for an unknown DAG or backfill', async ({ store }) => {
    const h = await setUp(store);
    const unknownDag = await h.call('POST', '/api/v1/backfills', {
      dagId: 'nope',
      from: '2025-12-01',
      to: '2025-12-02',
    });
    expect(unknownDag.status).toBe(404);
    expect((await h.call('GET', '/api/v1/backfills?dagId=nope')).status).toBe(404);
    expect((await h.call('GET', '/api/v1/backfills/nope')).status).toBe(404);
    expect((await h.call('POST', '/api/v1/backfills/nope/cancel')).status).toBe(404);
    const noDag = await h.call('GET', '/api/v1/backfills');
    expect(noDag.status).toBe(400);
    expect(noDag.body.field).toBe('dagId');
    expect(h.clock.now()).toBeLessThan(T0 + DAY);
  });
});
