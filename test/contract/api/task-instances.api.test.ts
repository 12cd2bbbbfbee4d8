/** Task instances and clearing through the API, on DynamoDB Local. */
import { describe, expect } from 'vitest';
import { dag } from '#sdk/index.ts';
import { makeApiHarness, seg } from '../../support/api-harness.ts';
import { ddbTest as test } from '../../support/ddb.ts';

/** extract → [transform, audit] → load; `load` needs 2 slots of the warehouse pool. */
const etl = dag('etl', { schedule: null, startDate: '2026-01-01' }, (d) => {
  const extract = d.task('extract', async () => 1);
  const transform = d.task('transform', { retries: 1, retryDelay: '1m' }, async () => 2);
  const audit = d.task('audit', async () => 3);
  const load = d.task('load', { pool: 'warehouse', poolSlots: 2 }, async () => 4);
  extract.before([transform, audit]);
  transform.before(load);
  audit.before(load);
});

async function withRun(store: Parameters<typeof makeApiHarness>[0]) {
  const h = makeApiHarness(store);
  await store.putPool({ name: 'warehouse', slots: 2, description: '', includeDeferred: false });
  await h.register(etl);
  const { body: run } = await h.call('POST', '/api/v1/dags/etl/runs', {});
  const base = `/api/v1/dags/etl/runs/${seg(run.runId)}`;
  return { h, run, base };
}

describe('API: task instances', () => {
  test('lists the instances of a run in the DAG’s order, with timings and why they wait', async ({
    store,
  }) => {
    const { h, base } = await withRun(store);
    await h.pass();
    await h.work();
    await h.pass();
    const res = await h.call('GET', `${base}/taskInstances`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((t: { taskId: string }) => t.taskId)).toEqual([
      'extract',
      'audit',
      'transform',
      'load',
    ]);
    const extract = res.body.items[0];
    expect(extract).toMatchObject({ state: 'success', tryNumber: 1, pool: 'default_pool' });
    expect(extract.durationMs).toBe(0);
    const load = res.body.items[3];
    expect(load.state).toBe('none');
    expect(load.waitReason).toMatchObject({ kind: 'upstream_pending' });
    expect(load.waitReasonText).toMatch(/^waiting for upstream tasks: /);
    const paged = await h.call('GET', `${base}/taskInstances?limit=3`);
    const rest = await h.call(
      'GET',
      `${base}/taskInstances?limit=3&cursor=${encodeURIComponent(paged.body.next)}`,
    );
    expect([...paged.body.items, ...rest.body.items].map((t: { taskId: string }) => t.taskId)).toEqual([
      'extract',
      'audit',
      'transform',
      'load',
    ]);
    expect(rest.body.next).toBeNull();
  });

  test('shows one instance with its task, its tries, its result and the log of each try', async ({
    store,
  }) => {
    const { h, base } = await withRun(store);
    let failedOnce = false;
    await h.drain((ti) => {
      if (ti.taskId === 'transform' && !failedOnce) {
        failedOnce = true;
        return { state: 'failed', error: 'flaky' };
      }
      return { state: 'success', result: { rows: 42 } };
    });
    // The retry waits a minute: let it come due and finish.
    h.clock.advance(120_000);
    await h.drain(() => ({ state: 'success', result: { rows: 42 } }));
    const res = await h.call('GET', `${base}/taskInstances/transform`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'success', tryNumber: 2, result: { rows: 42 } });
    expect(res.body.task).toMatchObject({ taskId: 'transform', retries: 1, retryDelayMs: 60_000 });
    expect(
      res.body.tries.map((t: { tryNumber: number; current: boolean }) => [t.tryNumber, t.current]),
    ).toEqual([
      [1, false],
      [2, true],
    ]);
    // The first try is kept in the instance's history: how it ended, where, when, and its error.
    expect(res.body.tries[0]).toMatchObject({ state: 'up_for_retry', error: 'flaky' });
    expect(res.body.tries[0].workerId).toEqual(expect.any(String));
    expect(res.body.tries[0].durationMs).toEqual(expect.any(Number));
    expect(res.body.tries[1]).toMatchObject({ state: 'success', error: null });
    const log1 = await h.call('GET', `${base}/taskInstances/transform/logs/1`);
    expect(log1.body).toEqual({
      items: [
        { line: 1, text: 'try 1 of transform' },
        { line: 2, text: 'done' },
      ],
      next: null,
    });
    const page = await h.call('GET', `${base}/taskInstances/transform/logs/2?limit=1`);
    expect(page.body.items).toEqual([{ line: 1, text: 'try 2 of transform' }]);
    const next = await h.call(
      'GET',
      `${base}/taskInstances/transform/logs/2?limit=1&cursor=${encodeURIComponent(page.body.next)}`,
    );
    expect(next.body).toEqual({ items: [{ line: 2, text: 'done' }], next: null });
  });

  test('answers 404 for an unknown task, map index or try, and 400 for a bad try number', async ({
    store,
  }) => {
    const { h, base } = await withRun(store);
    const unknown = await h.call('GET', `${base}/taskInstances/nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/has no task instance nope$/);
    expect((await h.call('GET', `${base}/taskInstances/extract?mapIndex=3`)).status).toBe(404);
    const noTry = await h.call('GET', `${base}/taskInstances/extract/logs/1`);
    expect(noTry.status).toBe(404);
    expect(noTry.body.message).toBe('task instance extract has no try 1: it has not been tried yet');
    const bad = await h.call('GET', `${base}/taskInstances/extract/logs/zero`);
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('tryNumber');
    expect((await h.call('GET', '/api/v1/dags/etl/runs/nope/taskInstances')).status).toBe(404);
  });

  test('says in words when an instance waits for its pool', async ({ store }) => {
    const { h, base } = await withRun(store);
    await store.putPool({ name: 'warehouse', slots: 1, description: '', includeDeferred: false });
    await h.drain();
    const load = await h.call('GET', `${base}/taskInstances/load`);
    expect(load.body.state).toBe('scheduled');
    expect(load.body.waitReasonText).toBe('needs 2 slots but pool warehouse has only 1');
  });
});

describe('API: clearing task instances', () => {
  test('clears a failed task with its downstream and puts the finished run back in the queue', async ({
    store,
  }) => {
    // Prepare: audit fails for good, so load is upstream_failed and the run failed.
    const { h, run } = await withRun(store);
    await h.drain((ti) =>
      ti.taskId === 'audit' ? { state: 'failed', error: 'bad', retryable: false } : { state: 'success' },
    );
    expect((await store.getRun('etl', run.runId))?.state).toBe('failed');
    const body = { runId: run.runId, taskIds: ['audit'], includeDownstream: true };
    // Act: a dry run first, then the clear.
    const dry = await h.call('POST', '/api/v1/dags/etl/clearTaskInstances', { ...body, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.cleared.map((c: { taskId: string; state: string }) => [c.taskId, c.state])).toEqual([
      ['audit', 'failed'],
      ['load', 'upstream_failed'],
    ]);
    expect((await store.getRun('etl', run.runId))?.state).toBe('failed');
    expect(
      (await store.getTi({ dagId: 'etl', runId: run.runId, taskId: 'audit', mapIndex: -1 }))?.state,
    ).toBe('failed');
    const res = await h.call('POST', '/api/v1/dags/etl/clearTaskInstances', body);
    // Assess
    expect(res.body.cleared).toHaveLength(2);
    expect(res.body.runsRequeued).toEqual([{ dagId: 'etl', runId: run.runId }]);
    expect(h.events).toContainEqual({ type: 'run_triggered', dagId: 'etl', runId: run.runId });
    const after = await store.listTis('etl', run.runId);
    expect(Object.fromEntries(after.map((t) => [t.taskId, t.state]))).toEqual({
      extract: 'success',
      transform: 'success',
      audit: 'none',
      load: 'none',
    });
    await h.drain();
    expect((await store.getRun('etl', run.runId))?.state).toBe('success');
  });

  test('clears only the failed ones when asked, across a range of logical dates', async ({ store }) => {
    const { h } = await withRun(store);
    await h.call('POST', '/api/v1/dags/etl/runs', { runId: 'older', logicalDate: '2026-01-02' });
    await h.drain((ti) =>
      ti.taskId === 'load' ? { state: 'failed', error: 'x', retryable: false } : { state: 'success' },
    );
    const res = await h.call('POST', '/api/v1/dags/etl/clearTaskInstances', {
      from: '2026-01-01',
      to: '2026-01-10',
      taskIds: ['extract', 'load'],
      onlyFailed: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.cleared.map((c: { runId: string; taskId: string }) => c.taskId)).toEqual([
      'load',
      'load',
    ]);
    expect(res.body.runsRequeued).toHaveLength(2);
  });

  test.for([
    { case: 'an unknown task', body: { runId: 'r', taskIds: ['nope'] }, field: 'taskIds', status: 400 },
    { case: 'no task', body: { runId: 'r', taskIds: [] }, field: 'taskIds', status: 400 },
    {
      case: 'both a run and a range',
      body: { runId: 'r', from: '2026-01-01', to: '2026-01-02', taskIds: ['load'] },
      field: 'runId',
      status: 400,
    },
    { case: 'neither a run nor a range', body: { taskIds: ['load'] }, field: 'from', status: 400 },
    {
      case: 'a range backwards',
      body: { from: '2026-01-05', to: '2026-01-01', taskIds: ['load'] },
      field: 'from',
      status: 400,
    },
    {
      case: 'an unknown field',
      body: { runId: 'r', taskIds: ['load'], downstream: true },
      field: 'downstream',
      status: 400,
    },
  ])('refuses a clear with $case and changes nothing', async (c, { store }) => {
    const { h, run } = await withRun(store);
    await h.drain((ti) =>
      ti.taskId === 'load' ? { state: 'failed', error: 'x', retryable: false } : { state: 'success' },
    );
    const before = await store.listTis('etl', run.runId);
    const body = c.body.runId ? { ...c.body, runId: run.runId } : c.body;
    const res = await h.call('POST', '/api/v1/dags/etl/clearTaskInstances', body);
    expect(res.status).toBe(c.status);
    expect(res.body.field).toBe(c.field);
    expect(await store.listTis('etl', run.runId)).toEqual(before);
    expect((await store.getRun('etl', run.runId))?.state).toBe('failed');
  });

  test('answers 404 for a clear in an unknown run or DAG', async ({ store }) => {
    const { h } = await withRun(store);
    expect(
      (await h.call('POST', '/api/v1/dags/etl/clearTaskInstances', { runId: 'nope', taskIds: ['load'] }))
        .status,
    ).toBe(404);
    expect(
      (await h.call('POST', '/api/v1/dags/nope/clearTaskInstances', { runId: 'x', taskIds: ['load'] }))
        .status,
    ).toBe(404);
  });
});
