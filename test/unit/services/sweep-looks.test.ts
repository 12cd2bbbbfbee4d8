import { describe, expect, it } from 'vitest';
import { dag } from '#sdk/index.ts';
import { passOptionsFor } from '#services/scheduler-input.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { beginTry, finishTry } from '#services/worker.ts';
import { makeHarness } from '../../support/service-harness.ts';
import { sweepRecoversLostEvent } from '../../support/sweep-scenarios.ts';

const noop = async () => null;

/** The state of each task instance of a run, by task id. */
async function states(h: ReturnType<typeof makeHarness>, dagId: string, runId: string) {
  return Object.fromEntries((await h.store.listTis(dagId, runId)).map((ti) => [ti.taskId, ti.state]));
}

describe('the sweep’s looks at runs', () => {
  it('recovers a lost task_finished event of a run with nothing else under way', async () => {
    await sweepRecoversLostEvent(makeHarness());
  });

  it('leaves a run with work in flight to that work’s news, which recovers an event lost before it', async () => {
    // Prepare: roots a (→ b) and slow; a's event is lost while slow still runs.
    const h = makeHarness();
    await h.register(
      dag('in_flight', { schedule: null }, (d) => {
        d.task('a', noop).before(d.task('b', noop));
        d.task('slow', noop);
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'in_flight', now: h.clock.now() });
    await h.pass();
    const messages = h.dispatched.splice(0);
    const begin = (taskId: string) =>
      beginTry(h.deps, messages.find((m) => m.key.taskId === taskId)!, {
        now: h.clock.now(),
        workerId: 'test-worker',
      });
    const a = await begin('a');
    const slow = await begin('slow');
    if (a.kind !== 'started' || slow.kind !== 'started') throw new Error('not started');
    await finishTry(h.deps, a.started, { state: 'success' }, h.clock.now());
    h.events.splice(0);

    // Act 1: a sweep while slow runs (it heartbeats, so it is not timed out).
    h.clock.advance(60_000);
    await h.store.heartbeat(slow.started.ti, slow.started.ti.tryNumber, h.clock.now());
    const swept = await h.pass({ sweep: true });

    // Assess 1: the run was not evaluated (slow's end will bring its news): b still waits.
    expect(swept.advance.tisChanged).toBe(0);
    expect(await states(h, 'in_flight', run.runId)).toMatchObject({
      a: 'success',
      b: 'none',
      slow: 'running',
    });

    // Act 2: slow ends and its event arrives; the pass for it looks at the run.
    await finishTry(h.deps, slow.started, { state: 'success' }, h.clock.now());
    const report = await schedulerPass(h.deps, passOptionsFor(h.events.splice(0), h.clock.now()));

    // Assess 2: the look for slow's news found b due.
    expect(report.claim.dispatched.map((m) => m.key.taskId)).toEqual(['b']);
    expect(await h.work()).toEqual(['b']);
    await schedulerPass(h.deps, passOptionsFor(h.events.splice(0), h.clock.now()));
    expect((await h.store.getRun('in_flight', run.runId))?.state).toBe('success');
  });

  it('fails a run past its dagrunTimeout even while it has work in flight', async () => {
    const h = makeHarness();
    await h.register(
      dag('timed', { schedule: null, dagrunTimeout: '10m' }, (d) => {
        d.task('long', noop).before(d.task('after', noop));
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'timed', now: h.clock.now() });
    await h.pass();
    const begun = await beginTry(h.deps, h.dispatched.shift()!, { now: h.clock.now(), workerId: 'w' });
    expect(begun.kind).toBe('started');

    h.clock.advance(11 * 60_000);
    if (begun.kind === 'started') await h.store.heartbeat(begun.started.ti, 1, h.clock.now());
    await h.pass({ sweep: true });

    const after = await h.store.getRun('timed', run.runId);
    expect(after).toMatchObject({ state: 'failed', note: 'dagrun_timeout' });
    expect(await states(h, 'timed', run.runId)).toMatchObject({ long: 'running', after: 'skipped' });
  });

  it('passes on the news about runs in a batch that also sweeps', () => {
    const ended = { type: 'task_finished' as const, dagId: 'd', runId: 'r', taskId: 'a', dagVersion: 'v1' };
    expect(passOptionsFor([{ type: 'sweep' }, ended], 1_000)).toEqual({
      now: 1_000,
      sweep: true,
      runs: [{ dagId: 'd', runId: 'r', ended: ['a'], dagVersion: 'v1' }],
    });
  });
});
