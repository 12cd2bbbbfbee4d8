/**
 * The API mounted on the local stack as `updraft dev` mounts it, over real HTTP with the bearer
 * token, while the real scheduler and workers run: every resource once, end to end, and every
 * response held to the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devRequestHandler, localApiDeps, newApiToken } from '../../../cli/dev/http.ts';
import type { LocalStack } from '../../../cli/dev/stack.ts';
import { createApiApp } from '../../../functions/api/app.ts';
import type { ApiResponse } from '../../support/api-harness.ts';
import { makeSchemaCheck } from '../../support/api-schema-check.ts';
import { startTestStack, waitFor } from '../support/local-stack.ts';

const SOURCE = `import { dag } from 'updraft/sdk';

export default dag('api_e2e', { schedule: '@hourly', startDate: '2026-01-01', catchup: false }, (d) => {
  const extract = d.task('extract', async (ctx) => {
    ctx.log('extracting ' + ctx.dataIntervalStart.toISOString());
    return { rows: 3, fail: ctx.conf.fail === true };
  });
  const load = d.task('load', { pool: 'e2e_pool' }, async (ctx) => {
    if (ctx.conf.fail === true) throw new Error('asked to fail');
    ctx.log('loaded');
    return 'ok';
  });
  extract.before(load);
});
`;

const token = newApiToken();
let stack: LocalStack;
let base: string;
let check: ReturnType<typeof makeSchemaCheck>;

async function api(
  method: string,
  path: string,
  body?: unknown,
  auth = true,
): Promise<Pick<ApiResponse, 'status' | 'body'>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(auth && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  check(method, path, res.status, parsed);
  return { status: res.status, body: parsed };
}

const enc = encodeURIComponent;

async function runState(runId: string) {
  return (await api('GET', `/api/v1/dags/api_e2e/runs/${enc(runId)}`)).body;
}

beforeAll(async () => {
  stack = await startTestStack({
    pools: { e2e_pool: 2 },
    http: { port: 0, handler: devRequestHandler({ token }) },
  });
  base = stack.endpoints.http!;
  check = makeSchemaCheck(createApiApp(localApiDeps(stack, { token })));
  await stack.putDagFile('api_e2e.ts', SOURCE);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('API on the local stack', () => {
  it('answers health without a token and 401 without one elsewhere', async () => {
    expect((await api('GET', '/api/v1/health', undefined, false)).body).toMatchObject({
      status: 'ok',
      store: 'ok',
    });
    expect((await api('GET', '/api/v1/dags', undefined, false)).status).toBe(401);
    expect((await api('GET', '/api/openapi.json')).status).toBe(200);
    expect((await api('GET', '/api/v1/version')).body).toMatchObject({
      stage: 'local',
      api: 'v1',
      dagBucket: { name: stack.names.bucket, prefix: 'dags/', endpoint: stack.endpoints.aws },
    });
  });

  it('lists the DAG, triggers a run with conf and watches it succeed, with logs per try', async () => {
    const dags = await api('GET', '/api/v1/dags');
    expect(dags.body.items.map((d: { dagId: string }) => d.dagId)).toContain('api_e2e');
    const detail = await api('GET', '/api/v1/dags/api_e2e');
    expect(detail.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['extract', 'load']);

    const { status, body: run } = await api('POST', '/api/v1/dags/api_e2e/runs', { conf: { note: 'e2e' } });
    expect(status).toBe(201);
    const done = await waitFor(
      'the run to succeed',
      () => runState(run.runId),
      (r) => r.state === 'success',
    );
    expect(done.taskInstanceCounts.success).toBe(2);
    const tis = await api('GET', `/api/v1/dags/api_e2e/runs/${enc(run.runId)}/taskInstances`);
    expect(tis.body.items.map((t: { taskId: string; state: string }) => [t.taskId, t.state])).toEqual([
      ['extract', 'success'],
      ['load', 'success'],
    ]);
    const extract = await api('GET', `/api/v1/dags/api_e2e/runs/${enc(run.runId)}/taskInstances/extract`);
    expect(extract.body.result).toEqual({ rows: 3, fail: false });
    const log = await waitFor(
      'the log of extract to be stored',
      () => api('GET', `/api/v1/dags/api_e2e/runs/${enc(run.runId)}/taskInstances/extract/logs/1`),
      (r) => r.body.items.length > 0,
    );
    expect(log.body.items.map((l: { text: string }) => l.text).join('\n')).toMatch(/extracting /);
  });

  it('marks a failed run success, then clears a task and the run goes back to work (and fails again, as its conf asks)', async () => {
    const { body: run } = await api('POST', '/api/v1/dags/api_e2e/runs', {
      conf: { fail: true },
      runId: 'to_clear',
    });
    await waitFor(
      'the run to fail',
      () => runState(run.runId),
      (r) => r.state === 'failed',
    );
    const dry = await api('POST', '/api/v1/dags/api_e2e/clearTaskInstances', {
      runId: 'to_clear',
      taskIds: ['extract'],
      includeDownstream: true,
      onlyFailed: true,
      dryRun: true,
    });
    expect(dry.body.cleared.map((c: { taskId: string }) => c.taskId)).toEqual(['load']);
    expect((await runState('to_clear')).state).toBe('failed');
    // Marking it success is the other way out.
    const marked = await api('PATCH', '/api/v1/dags/api_e2e/runs/to_clear', { state: 'success' });
    expect(marked.body).toMatchObject({ state: 'success', note: 'marked success' });
    const cleared = await api('POST', '/api/v1/dags/api_e2e/clearTaskInstances', {
      runId: 'to_clear',
      taskIds: ['load'],
    });
    expect(cleared.body.runsRequeued).toEqual([{ dagId: 'api_e2e', runId: 'to_clear' }]);
    // Still asked to fail: it fails again, through the real scheduler and worker.
    await waitFor(
      'the cleared run to fail again',
      () => runState('to_clear'),
      (r) => r.state === 'failed',
    );
    expect((await runState('to_clear')).clearNumber).toBe(1);
  });

  it('resizes a pool in place and refuses to delete default_pool', async () => {
    const pool = await api('GET', '/api/v1/pools/e2e_pool');
    expect(pool.body).toMatchObject({ slots: 2 });
    expect((await api('PATCH', '/api/v1/pools/e2e_pool', { slots: 5 })).body.slots).toBe(5);
    expect((await api('POST', '/api/v1/pools', { name: 'e2e_extra', slots: 1 })).status).toBe(201);
    expect((await api('DELETE', '/api/v1/pools/e2e_extra')).status).toBe(204);
    expect((await api('DELETE', '/api/v1/pools/default_pool')).status).toBe(409);
  });

  it('runs a backfill to 100 % and refuses a second one while it runs', async () => {
    const now = Date.now();
    const hour = 3_600_000;
    // Well behind the scheduler's own latest run (catchup off: the interval before the stack
    // started, or the next one when the hour turns during the suite), which a backfill skips.
    const to = new Date(Math.floor(now / hour) * hour - 8 * hour).toISOString();
    const from = new Date(Math.floor(now / hour) * hour - 10 * hour).toISOString();
    const created = await api('POST', '/api/v1/backfills', { dagId: 'api_e2e', from, to, maxActiveRuns: 2 });
    expect(created.status).toBe(201);
    const id = enc(created.body.backfill.backfillId);
    expect(created.body.backfill.progress.total).toBe(3);
    const second = await api('POST', '/api/v1/backfills', { dagId: 'api_e2e', from, to });
    expect([201, 409]).toContain(second.status);
    if (second.status === 201) throw new Error('a second unfinished backfill was accepted');
    const done = await waitFor(
      'the backfill to complete',
      () => api('GET', `/api/v1/backfills/${id}`),
      (r) => r.body.state === 'completed',
    );
    expect(done.body.progress).toMatchObject({ total: 3, success: 3, fraction: 1, etaMs: 0 });
    const list = await api('GET', '/api/v1/backfills?dagId=api_e2e');
    expect(list.body.items[0].backfillId).toBe(created.body.backfill.backfillId);
  });

  it('pauses and unpauses the DAG', async () => {
    expect((await api('PATCH', '/api/v1/dags/api_e2e', { paused: true })).body.paused).toBe(true);
    expect(
      (await api('GET', '/api/v1/dags?paused=true')).body.items.map((d: { dagId: string }) => d.dagId),
    ).toContain('api_e2e');
    expect((await api('PATCH', '/api/v1/dags/api_e2e', { paused: false })).body.paused).toBe(false);
  });
});
