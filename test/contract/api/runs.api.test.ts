/** The run resources of the API, on DynamoDB Local: list, trigger with conf, detail, mark success/failed. */
import { describe, expect } from 'vitest';
import { dag } from '#sdk/index.ts';
import { makeApiHarness, seg, T0 } from '../../support/api-harness.ts';
import { ddbTest as test } from '../../support/ddb.ts';

const etl = dag('etl', { schedule: null, startDate: '2026-01-01' }, (d) => {
  const a = d.task('extract', async () => 1);
  const b = d.task('load', { pool: 'warehouse' }, async () => 2);
  a.before(b);
});

describe('API: runs', () => {
  test('triggers a run with conf, lists it and shows its task-instance counts', async ({ store }) => {
    // Prepare
    const h = makeApiHarness(store);
    await h.register(etl);
    // Act
    const created = await h.call('POST', '/api/v1/dags/etl/runs', { conf: { day: 'monday' } });
    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      dagId: 'etl',
      runType: 'manual',
      state: 'queued',
      conf: { day: 'monday' },
      runId: expect.stringMatching(/^manual__/),
    });
    expect(h.events).toContainEqual({ type: 'run_triggered', dagId: 'etl', runId: created.body.runId });
    const list = await h.call('GET', '/api/v1/dags/etl/runs');
    expect(list.body.items.map((r: { runId: string }) => r.runId)).toEqual([created.body.runId]);
    const detail = await h.call('GET', `/api/v1/dags/etl/runs/${seg(created.body.runId)}`);
    expect(detail.status).toBe(200);
    expect(detail.body.taskInstanceCounts).toMatchObject({ none: 2, success: 0 });
  });

  test('triggers with a logical date and a run id of its own, and refuses the same run id twice', async ({
    store,
  }) => {
    const h = makeApiHarness(store);
    await h.register(etl);
    const body = { runId: 'my_run', logicalDate: '2026-01-03' };
    const first = await h.call('POST', '/api/v1/dags/etl/runs', body);
    expect(first.status).toBe(201);
    expect(first.body.runId).toBe('my_run');
    expect(first.body.dataIntervalEnd).toBe('2026-01-03T00:00:00.000Z');
    const again = await h.call('POST', '/api/v1/dags/etl/runs', { ...body, conf: { x: 1 } });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('conflict');
    expect((await store.getRun('etl', 'my_run'))?.conf).toEqual({});
  });

  test.for([
    { case: 'conf that is not an object', body: { conf: [1, 2] }, field: 'conf' },
    {
      case: 'a logical date without a zone',
      body: { logicalDate: '2026-01-03T10:00' },
      field: 'logicalDate',
    },
    { case: 'an unknown field', body: { config: {} }, field: 'config' },
    { case: 'a run id with a slash', body: { runId: 'a/b' }, field: 'runId' },
  ])('refuses a trigger with $case, naming the field, and creates nothing', async (c, { store }) => {
    const h = makeApiHarness(store);
    await h.register(etl);
    const res = await h.call('POST', '/api/v1/dags/etl/runs', c.body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_request', field: c.field });
    expect((await store.listRuns('etl')).items).toEqual([]);
  });

  test('answers 404 for runs of an unknown DAG and for an unknown run', async ({ store }) => {
    const h = makeApiHarness(store);
    await h.register(etl);
    expect((await h.call('GET', '/api/v1/dags/nope/runs')).status).toBe(404);
    expect((await h.call('POST', '/api/v1/dags/nope/runs', {})).status).toBe(404);
    const run = await h.call('GET', '/api/v1/dags/etl/runs/nope');
    expect(run.status).toBe(404);
    expect(run.body.message).toBe('DAG etl has no run nope');
  });

  test('filters runs by state and pages them newest first', async ({ store }) => {
    const h = makeApiHarness(store);
    await h.register(etl);
    for (const day of ['2026-01-02', '2026-01-03', '2026-01-04']) {
      await h.call('POST', '/api/v1/dags/etl/runs', { logicalDate: day, runId: `r${day}` });
    }
    await h.call('PATCH', `/api/v1/dags/etl/runs/r2026-01-03`, { state: 'failed' });
    const page1 = await h.call('GET', '/api/v1/dags/etl/runs?limit=2');
    expect(page1.body.items.map((r: { runId: string }) => r.runId)).toEqual(['r2026-01-04', 'r2026-01-03']);
    const page2 = await h.call(
      'GET',
      `/api/v1/dags/etl/runs?limit=2&cursor=${encodeURIComponent(page1.body.next)}`,
    );
    expect(page2.body.items.map((r: { runId: string }) => r.runId)).toEqual(['r2026-01-02']);
    const failed = await h.call('GET', '/api/v1/dags/etl/runs?state=failed');
    expect(failed.body.items.map((r: { runId: string }) => r.runId)).toEqual(['r2026-01-03']);
    const bad = await h.call('GET', '/api/v1/dags/etl/runs?state=broken');
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('state.0');
    expect((await h.call('GET', '/api/v1/dags/etl/runs?limit=0')).body.field).toBe('limit');
    expect((await h.call('GET', '/api/v1/dags/etl/runs?cursor=garbage')).body.field).toBe('cursor');
  });

  test('marks a running run success: its queued and running tries end and release their slots', async ({
    store,
  }) => {
    // Prepare: extract succeeds, load is claimed (queued) in the warehouse pool.
    const h = makeApiHarness(store);
    await store.putPool({ name: 'warehouse', slots: 2, description: '', includeDeferred: false });
    await h.register(etl);
    const { body: run } = await h.call('POST', '/api/v1/dags/etl/runs', {});
    await h.pass();
    await h.work();
    await h.pass();
    expect((await store.getTi({ dagId: 'etl', runId: run.runId, taskId: 'load', mapIndex: -1 }))?.state).toBe(
      'queued',
    );
    // Act
    const res = await h.call('PATCH', `/api/v1/dags/etl/runs/${seg(run.runId)}`, { state: 'success' });
    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'success', note: 'marked success' });
    expect(res.body.taskInstanceCounts).toMatchObject({ success: 2, queued: 0 });
    const [counter] = await store.readCounters([{ kind: 'pool', pool: 'warehouse' }]);
    expect(counter?.used).toBe(0);
    // The worker that got the dispatch finds the try gone and does nothing.
    expect(await h.work()).toEqual([]);
  });

  test('marks a run failed: running instances fail, unfinished ones are skipped, finished ones stay', async ({
    store,
  }) => {
    const h = makeApiHarness(store);
    await store.putPool({ name: 'warehouse', slots: 2, description: '', includeDeferred: false });
    await h.register(etl);
    const { body: run } = await h.call('POST', '/api/v1/dags/etl/runs', {});
    await h.pass();
    await h.work();
    const res = await h.call('PATCH', `/api/v1/dags/etl/runs/${seg(run.runId)}`, { state: 'failed' });
    expect(res.body).toMatchObject({ state: 'failed', note: 'marked failed' });
    const tis = await store.listTis('etl', run.runId);
    expect(Object.fromEntries(tis.map((t) => [t.taskId, t.state]))).toEqual({
      extract: 'success',
      load: 'skipped',
    });
  });

  test('marks a failed run success, and refuses a state it cannot mark', async ({ store }) => {
    const h = makeApiHarness(store);
    await h.register(etl);
    const { body: run } = await h.call('POST', '/api/v1/dags/etl/runs', {});
    await h.drain(() => ({ state: 'failed', error: 'boom', retryable: false }));
    expect((await store.getRun('etl', run.runId))?.state).toBe('failed');
    const bad = await h.call('PATCH', `/api/v1/dags/etl/runs/${seg(run.runId)}`, { state: 'running' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('state');
    expect((await store.getRun('etl', run.runId))?.state).toBe('failed');
    const ok = await h.call('PATCH', `/api/v1/dags/etl/runs/${seg(run.runId)}`, { state: 'success' });
    expect(ok.body.state).toBe('success');
    expect(ok.body.taskInstanceCounts).toMatchObject({ success: 2, failed: 0, upstream_failed: 0 });
    expect(h.clock.now()).toBeGreaterThan(T0);
  });
});
