import { describe, expect, it } from 'vitest';
import { counterKeyString } from '#core/model.ts';
import { dag } from '#sdk/index.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { beginTry, finishTry } from '#services/worker.ts';
import { makeHarness, T0 } from '../../support/service-harness.ts';

const noop = async () => null;

function chain(id = 'chain', taskOptions: Record<string, unknown> = {}) {
  return dag(id, { schedule: null, startDate: '2026-01-01' }, (d) => {
    const a = d.task('a', taskOptions, noop);
    const b = d.task('b', taskOptions, noop);
    const c = d.task('c', taskOptions, noop);
    a.before(b).before(c);
  });
}

async function heldCounters(h: ReturnType<typeof makeHarness>) {
  const snapshot = h.store.counterSnapshot();
  return [...snapshot.entries()].filter(([, used]) => used !== 0);
}

describe('schedulerPass', () => {
  it('runs a manual run of a chain to success in dependency order and releases every slot', async () => {
    // Prepare
    const h = makeHarness();
    await h.register(chain());
    const run = await triggerRun(h.deps, { dagId: 'chain', now: h.clock.now() });

    // Act
    const order = await h.drain();

    // Assess
    expect(order).toEqual(['a', 'b', 'c']);
    expect((await h.store.getRun('chain', run.runId))?.state).toBe('success');
    expect(await heldCounters(h)).toEqual([]);
  });

  it('fails fast: a failed task marks everything downstream upstream_failed in the same pass', async () => {
    const h = makeHarness();
    await h.register(chain());
    const run = await triggerRun(h.deps, { dagId: 'chain', now: h.clock.now() });

    await h.drain((ti) => (ti.taskId === 'a' ? { state: 'failed', error: 'boom' } : { state: 'success' }));

    const states = Object.fromEntries(
      (await h.store.listTis('chain', run.runId)).map((ti) => [ti.taskId, ti.state]),
    );
    expect(states).toEqual({ a: 'failed', b: 'upstream_failed', c: 'upstream_failed' });
    expect((await h.store.getRun('chain', run.runId))?.state).toBe('failed');
  });

  it('retries a failed try only once its retry delay has passed', async () => {
    const h = makeHarness();
    await h.register(
      dag('retrying', { schedule: null }, (d) => {
        d.task('flaky', { retries: 1, retryDelay: '60s' }, noop);
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'retrying', now: h.clock.now() });
    await h.pass();
    await h.work(() => ({ state: 'failed', error: 'first try fails' }));
    const failed = await h.store.getTi({
      dagId: 'retrying',
      runId: run.runId,
      taskId: 'flaky',
      mapIndex: -1,
    });
    expect(failed?.state).toBe('up_for_retry');

    // Before the delay: nothing is dispatched.
    h.clock.advance(59_000);
    await h.pass({ sweep: true });
    expect(h.dispatched).toHaveLength(0);

    // After it: try 2 runs and succeeds.
    h.clock.advance(2_000);
    await h.pass({ sweep: true });
    expect(h.dispatched.map((m) => m.tryNumber)).toEqual([2]);
    await h.work();
    await h.pass();
    expect((await h.store.getRun('retrying', run.runId))?.state).toBe('success');
  });

  it('treats a duplicate delivery of a dispatch message as a no-op', async () => {
    const h = makeHarness();
    await h.register(chain());
    await triggerRun(h.deps, { dagId: 'chain', now: h.clock.now() });
    await h.pass();
    const [message] = h.dispatched;

    const first = await beginTry(h.deps, message!, { now: h.clock.now(), workerId: 'w1' });
    const second = await beginTry(h.deps, message!, { now: h.clock.now(), workerId: 'w2' });

    expect(first.kind).toBe('started');
    expect(second.kind).toBe('duplicate');
  });

  it('fails a try whose worker died (no heartbeat) and releases its slots, retrying when eligible', async () => {
    const h = makeHarness({ heartbeatTimeoutMs: 300_000 });
    await h.register(
      dag('dies', { schedule: null }, (d) => {
        d.task('work', { retries: 1, retryDelay: '10s' }, noop);
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'dies', now: h.clock.now() });
    await h.pass();
    const begun = await beginTry(h.deps, h.dispatched.shift()!, { now: h.clock.now(), workerId: 'doomed' });
    expect(begun.kind).toBe('started');

    // The worker is killed: no heartbeat, no result. The sweep notices after the timeout.
    h.clock.advance(301_000);
    const report = await h.pass({ sweep: true });

    expect(report.sweep?.heartbeatTimeouts).toBe(1);
    const ti = await h.store.getTi({ dagId: 'dies', runId: run.runId, taskId: 'work', mapIndex: -1 });
    expect(ti?.state).toBe('up_for_retry');
    expect(ti?.error).toMatch(/heartbeat/);
    expect(await heldCounters(h)).toEqual([]);

    // The dead worker's late result is discarded.
    if (begun.kind === 'started') {
      const late = await finishTry(h.deps, begun.started, { state: 'success' }, h.clock.now());
      expect(late.ended).toBe(false);
    }
  });

  it('re-dispatches a try whose message was lost, then fails it after two re-dispatches', async () => {
    const h = makeHarness({ taskQueuedTimeoutMs: 600_000, numStuckInQueuedRetries: 2 });
    await h.register(
      dag('lost', { schedule: null }, (d) => {
        d.task('work', noop);
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'lost', now: h.clock.now() });
    const key = { dagId: 'lost', runId: run.runId, taskId: 'work', mapIndex: -1 };
    await h.pass();
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      expect(h.dispatched.splice(0)).toHaveLength(1); // the message is lost
      h.clock.advance(601_000);
      await h.pass({ sweep: true });
      expect((await h.store.getTi(key))?.dispatchAttempts).toBe(attempt);
    }
    h.dispatched.splice(0);
    h.clock.advance(601_000);
    await h.pass({ sweep: true });

    const ti = await h.store.getTi(key);
    expect(ti?.state).toBe('failed');
    expect(ti?.error).toMatch(/stuck in queued/);
    expect(await heldCounters(h)).toEqual([]);
  });

  it('never claims past a pool limit when two schedulers pass at the same time', async () => {
    const h = makeHarness();
    await h.store.putPool({ name: 'tiny', slots: 2, description: '', includeDeferred: false });
    await h.register(
      dag('wide', { schedule: null }, (d) => {
        for (let i = 0; i < 10; i += 1) d.task(`t${i}`, { pool: 'tiny' }, noop);
      }),
    );
    await triggerRun(h.deps, { dagId: 'wide', now: h.clock.now() });
    await h.pass(); // schedules the ten instances (and claims two)
    expect(h.dispatched).toHaveLength(2);

    await Promise.all([h.pass(), h.pass(), h.pass()]);

    expect(h.dispatched).toHaveLength(2);
    expect(h.store.counterSnapshot().get(counterKeyString({ kind: 'pool', pool: 'tiny' }))).toBe(2);
  });

  it('says why an instance in a pool that does not exist is waiting, and warns at registration', async () => {
    const h = makeHarness();
    await h.register(
      dag('nopool', { schedule: null }, (d) => {
        d.task('work', { pool: 'gpu' }, noop);
      }),
    );
    const record = await h.store.getDag('nopool');
    expect(record?.warnings.join('\n')).toMatch(/pool gpu, which does not exist/);
    const run = await triggerRun(h.deps, { dagId: 'nopool', now: h.clock.now() });

    await h.pass();

    const ti = await h.store.getTi({ dagId: 'nopool', runId: run.runId, taskId: 'work', mapIndex: -1 });
    expect(ti?.state).toBe('scheduled');
    expect(ti?.waitReason).toEqual({ kind: 'pool_missing', pool: 'gpu' });
    expect(h.dispatched).toHaveLength(0);
  });

  it('creates every missed daily run with catchup, up to maxActiveRuns, and the next when one finishes', async () => {
    const h = makeHarness();
    await h.register(
      dag('daily', { schedule: '@daily', startDate: '2026-01-01', catchup: true, maxActiveRuns: 2 }, (d) => {
        d.task('work', noop);
      }),
    );
    // Now is 2026-01-05T00:00Z: the intervals of Jan 1, 2, 3 and 4 have ended.
    await h.pass();
    let runs = (await h.store.listRuns('daily')).items;
    expect(runs.map((r) => new Date(r.logicalDate).toISOString().slice(0, 10)).sort()).toEqual([
      '2026-01-01',
      '2026-01-02',
    ]);

    await h.drain();

    runs = (await h.store.listRuns('daily')).items;
    expect(runs).toHaveLength(4);
    expect(runs.every((r) => r.state === 'success')).toBe(true);
    expect(h.clock.now()).toBeGreaterThanOrEqual(T0);
  });

  it('creates no runs for a paused DAG', async () => {
    const h = makeHarness();
    await h.register(
      dag('sleepy', { schedule: '@daily', startDate: '2026-01-01', catchup: true }, (d) => {
        d.task('work', noop);
      }),
      { paused: true },
    );

    await h.pass();

    expect((await h.store.listRuns('sleepy')).items).toHaveLength(0);
  });

  it('claims a task with maxActiveTisPerDag across its runs up to that limit, beside tasks without one', async () => {
    // Prepare: three runs of a DAG whose `limited` task may run once at a time across runs.
    const h = makeHarness();
    await h.register(
      dag('capped', { schedule: null, maxActiveRuns: 3 }, (d) => {
        d.task('limited', { maxActiveTisPerDag: 1 }, noop);
        d.task('free', noop);
      }),
    );
    for (let i = 0; i < 3; i += 1) {
      await triggerRun(h.deps, { dagId: 'capped', now: h.clock.now() });
      h.clock.advance(1_000);
    }

    // Act: a second pass while the first claims still hold their slots.
    await h.pass({ sweep: true });
    const again = await h.pass({ sweep: true });

    // Assess: every `free`, one `limited`, and the second pass (reading the task's counter) tries
    // no claim the store would refuse; the others say why.
    const claimed = h.dispatched.map((m) => m.key.taskId).sort();
    expect(claimed).toEqual(['free', 'free', 'free', 'limited']);
    expect(again.claim).toMatchObject({ claimed: 0, lost: 0 });
    const runs = (await h.store.listRuns('capped')).items;
    const waiting = [];
    for (const run of runs) {
      const ti = await h.store.getTi({ dagId: 'capped', runId: run.runId, taskId: 'limited', mapIndex: -1 });
      if (ti?.state === 'scheduled') waiting.push(ti.waitReason);
    }
    expect(waiting).toEqual([
      { kind: 'task_max_active_tis_per_dag', used: 1, limit: 1 },
      { kind: 'task_max_active_tis_per_dag', used: 1, limit: 1 },
    ]);
  });
});
