import { describe, expect, it } from 'vitest';
import type { DagRun } from '#core/model.ts';
import { dag } from '#sdk/index.ts';
import { DownstreamPasses } from '#services/downstream-pass.ts';
import { runScheduler } from '#services/scheduler-input.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { createHandler } from '../../../functions/worker/handler.ts';
import { encode } from '../../../shared/messages.ts';
import { lambdaContext, makeTestDeps, sqsEvent } from '../../support/function-deps.ts';

const chain = dag('chain3', { schedule: null }, (d) => {
  const a = d.task('a', async () => 1);
  const b = d.task('b', async (ctx) => (ctx.upstream.a as number) + 1);
  const c = d.task('c', async (ctx) => (ctx.upstream.b as number) + 1);
  a.before(b);
  b.before(c);
});

const fanIn = dag('fan_in', { schedule: null }, (d) => {
  const join = d.task('join', async () => null);
  for (const id of ['x', 'y', 'z']) d.task(id, async () => null).before(join);
});

type Harness = ReturnType<typeof makeTestDeps>;

/** Runs the dispatched tries through the worker handler, as one SQS batch. */
async function deliver(t: Harness, handler: ReturnType<typeof createHandler>) {
  const bodies = t.dispatched.splice(0).map((m) => encode('dispatch', m));
  return handler(sqsEvent(bodies), lambdaContext());
}

/** The tasks whose `task_finished` events were sent to the scheduler. */
function finishedEvents(t: Harness): string[] {
  return t.events.flatMap((e) => (e.type === 'task_finished' && e.taskId ? [e.taskId] : []));
}

async function stateOf(t: Harness, run: DagRun, taskId: string) {
  return (await t.store.getTi({ dagId: run.dagId, runId: run.runId, taskId, mapIndex: -1 }))?.state;
}

describe('the worker’s downstream pass (Airflow’s mini scheduler)', () => {
  it('claims and dispatches the downstream itself, sending no event, until a leaf ends', async () => {
    // Prepare
    const t = makeTestDeps();
    const passes = new DownstreamPasses(t.deps, t.clock);
    const handler = createHandler({ ...t.deps, downstream: passes });
    const run = await t.runOf(chain);
    // Act: a ends; its worker dispatches b, whose worker dispatches c.
    await deliver(t, handler);
    expect(t.dispatched.map((m) => m.key.taskId)).toEqual(['b']);
    await deliver(t, handler);
    expect(t.dispatched.map((m) => m.key.taskId)).toEqual(['c']);
    await deliver(t, handler);
    // Assess: only the leaf's end went to the scheduler, whose pass then finishes the run.
    expect(finishedEvents(t)).toEqual(['c']);
    expect(passes.stats).toEqual({ passes: 2, events: 2, failed: 0 });
    await schedulerPass(t.deps, { now: t.clock.now(), runs: [{ ...run, ended: ['c'] }], dagIds: [] });
    expect((await t.store.getRun(run.dagId, run.runId))?.state).toBe('success');
    const c = await t.store.getTi({ dagId: run.dagId, runId: run.runId, taskId: 'c', mapIndex: -1 });
    expect(c?.result).toBe(3);
  });

  it('runs one pass for the ends of one batch', async () => {
    const t = makeTestDeps();
    const passes = new DownstreamPasses(t.deps, t.clock);
    const run = await t.runOf(fanIn);
    await deliver(t, createHandler({ ...t.deps, downstream: passes }));
    expect(passes.stats).toEqual({ passes: 1, events: 3, failed: 0 });
    expect(t.dispatched.map((m) => m.key.taskId)).toEqual(['join']);
    expect(await stateOf(t, run, 'join')).toBe('queued');
    expect(finishedEvents(t)).toEqual([]);
  });

  it('sends the event when its pass fails', async () => {
    const t = makeTestDeps();
    const failing = { ...t.deps, dispatcher: { dispatch: () => Promise.reject(new Error('SQS down')) } };
    const passes = new DownstreamPasses(failing, t.clock);
    const run = await t.runOf(chain);
    const response = await deliver(t, createHandler({ ...t.deps, downstream: passes }));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(passes.stats.failed).toBe(1);
    expect(finishedEvents(t)).toEqual(['a']);
    // The claim the pass made before its dispatch failed stays: the event's pass finds b queued,
    // and the sweep re-dispatches a try stuck in queued (taskQueuedTimeout).
    expect(await stateOf(t, run, 'b')).toBe('queued');
  });

  it('leaves nothing lost when the worker dies between the end and its pass: the sweep schedules the downstream', async () => {
    const t = makeTestDeps();
    // A pass that "ran" but did nothing: the worker died after the end, before the pass.
    const died = { run: async () => true };
    const run = await t.runOf(chain);
    await deliver(t, createHandler({ ...t.deps, downstream: died }));
    expect(finishedEvents(t)).toEqual([]);
    expect(t.dispatched).toEqual([]);
    expect(await stateOf(t, run, 'b')).toBe('none');
    await schedulerPass(t.deps, { now: t.clock.now(), sweep: true });
    expect(t.dispatched.map((m) => m.key.taskId)).toEqual(['b']);
  });

  it('races the scheduler’s pass for the same end: the downstream is claimed and dispatched once', async () => {
    const t = makeTestDeps();
    const passes = new DownstreamPasses(t.deps, t.clock);
    // The event is sent as well (an older worker beside this one, or a duplicate): both passes run at once.
    const racing = {
      run: async (event: Parameters<DownstreamPasses['run']>[0]) => {
        const [mine] = await Promise.all([passes.run(event), runScheduler(t.deps, [event], t.clock.now())]);
        return mine;
      },
    };
    const run = await t.runOf(chain);
    await deliver(t, createHandler({ ...t.deps, downstream: racing }));
    expect(t.dispatched.map((m) => m.key.taskId)).toEqual(['b']);
    expect(await stateOf(t, run, 'b')).toBe('queued');
    const counters = await t.store.readCounters([{ kind: 'global' }]);
    expect(counters.map((c) => c.used)).toEqual([1]);
  });

  it('hands a retry wait to the scheduler (nothing downstream changes)', async () => {
    const t = makeTestDeps();
    const flaky = dag('flaky_chain', { schedule: null, defaultArgs: { retries: 1 } }, (d) => {
      const a = d.task('a', async () => {
        throw new Error('flaky');
      });
      a.before(d.task('b', async () => null));
    });
    const passes = new DownstreamPasses(t.deps, t.clock);
    await t.runOf(flaky);
    await deliver(t, createHandler({ ...t.deps, downstream: passes }));
    expect(passes.stats.passes).toBe(0);
    expect(finishedEvents(t)).toEqual(['a']);
  });
});
