import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import { evaluateRun } from '#core/evaluate-run.ts';
import { dag } from '#sdk/index.ts';
import { chain, diamond, NOW, noop, runOf, statesAfter, world } from './run-fixtures.ts';

const moves = (e: ReturnType<typeof evaluateRun>) => e.transitions.map((t) => [t.key.taskId, t.set.state]);

describe('evaluateRun', () => {
  it('schedules the roots of a new run and says what the others wait for', () => {
    const e = evaluateRun(world(chain));
    expect(e.transitions).toEqual([
      {
        key: { dagId: 'chain', runId: 'manual__1', taskId: 'a', mapIndex: -1 },
        expect: { state: 'none', tryNumber: 0 },
        set: { state: 'scheduled', tryNumber: 1, scheduledAt: NOW, waitReason: null },
      },
    ]);
    expect(e.waits.map((x) => [x.key.taskId, x.reason])).toEqual([
      ['b', { kind: 'upstream_pending', pending: ['a'] }],
      ['c', { kind: 'upstream_pending', pending: ['b'] }],
    ]);
    expect(e.finish).toBeNull();
  });

  it('lists only the direct upstream tasks that have not finished as pending', () => {
    const e = evaluateRun(world(diamond, { start: 'success', left: 'success', right: 'running' }));
    expect(e.waits.map((x) => [x.key.taskId, x.reason])).toEqual([
      ['join', { kind: 'upstream_pending', pending: ['right'] }],
      ['cleanup', { kind: 'upstream_pending', pending: ['join'] }],
    ]);
  });

  it('fails fast: a failed root marks the whole chain upstream_failed in one evaluation and fails the run', () => {
    const w = world(chain, { a: 'failed' });
    const e = evaluateRun(w);
    expect(statesAfter(e, w.tis)).toEqual({ a: 'failed', b: 'upstream_failed', c: 'upstream_failed' });
    expect(e.transitions[0]).toMatchObject({
      expect: { state: 'none', tryNumber: 0 },
      set: { state: 'upstream_failed', endedAt: NOW },
    });
    expect(e.finish).toEqual({ state: 'failed', note: null });
  });

  it('fails fast before every upstream has finished', () => {
    const w = world(diamond, { start: 'success', left: 'failed', right: 'running' });
    const e = evaluateRun(w);
    expect(statesAfter(e, w.tis)).toMatchObject({ join: 'upstream_failed', cleanup: 'scheduled' });
    expect(e.finish).toBeNull();
  });

  it('runs an all_done cleanup after a failure; a non-leaf failure does not fail the run', () => {
    const w = world(diamond, { start: 'success', left: 'failed', right: 'success' });
    const e = evaluateRun(w);
    expect(statesAfter(e, w.tis)).toMatchObject({ join: 'upstream_failed', cleanup: 'scheduled' });
    expect(e.finish).toBeNull();
    const done = world(diamond, {
      start: 'success',
      left: 'failed',
      right: 'success',
      join: 'upstream_failed',
      cleanup: 'success',
    });
    expect(evaluateRun(done).finish).toEqual({ state: 'success', note: null });
    expect(
      evaluateRun({ ...done, tis: done.tis.map((t) => ({ ...t, state: 'failed' as const })) }).finish,
    ).toEqual({ state: 'failed', note: null });
  });

  it('cascades skips through a chain and succeeds when every leaf is skipped', () => {
    const w = world(chain, { a: 'skipped' });
    const e = evaluateRun(w);
    expect(statesAfter(e, w.tis)).toEqual({ a: 'skipped', b: 'skipped', c: 'skipped' });
    expect(e.finish).toEqual({ state: 'success', note: null });
  });

  it('skips a join behind a skipped branch, but none_failed_min_one_success joins it', () => {
    const w = world(diamond, { start: 'success', left: 'skipped', right: 'success' });
    expect(statesAfter(evaluateRun(w), w.tis)).toMatchObject({ join: 'skipped', cleanup: 'scheduled' });
    const branchy = compileDag(
      dag('branchy', {}, (d) => {
        d.chain(d.task('pick', noop), [d.task('x', noop), d.task('y', noop)]);
        d.task('join', { triggerRule: 'none_failed_min_one_success' }, noop).after('x', 'y');
        d.task('after', noop).after('join');
      }),
    );
    const b = world(branchy, { pick: 'success', x: 'skipped', y: 'success' });
    expect(statesAfter(evaluateRun(b), b.tis)).toMatchObject({ join: 'scheduled', after: 'none' });
    const allSkipped = world(branchy, { pick: 'success', x: 'skipped', y: 'skipped' });
    const e = evaluateRun(allSkipped);
    expect(statesAfter(e, allSkipped.tis)).toMatchObject({ join: 'skipped', after: 'skipped' });
    expect(e.finish).toEqual({ state: 'success', note: null });
  });

  it('succeeds empty tasks without dispatching them, and their downstream runs in the same evaluation', () => {
    const m = compileDag(
      dag('e', {}, (d) => void d.chain(d.empty('gate'), d.empty('gate2'), d.task('work', noop))),
    );
    const e = evaluateRun(world(m));
    expect(moves(e)).toEqual([
      ['gate', 'success'],
      ['gate2', 'success'],
      ['work', 'scheduled'],
    ]);
    expect(e.transitions[0]?.set).toEqual({
      state: 'success',
      tryNumber: 1,
      startedAt: NOW,
      endedAt: NOW,
      waitReason: null,
    });
  });

  it('marks an empty task behind a failure upstream_failed, not success', () => {
    const m = compileDag(dag('e', {}, (d) => void d.chain(d.task('work', noop), d.empty('done'))));
    const e = evaluateRun(world(m, { work: 'failed' }));
    expect(moves(e)).toEqual([['done', 'upstream_failed']]);
    expect(e.finish).toEqual({ state: 'failed', note: null });
  });

  it('finishes a run of only empty tasks in one evaluation', () => {
    const m = compileDag(dag('e', {}, (d) => void d.chain(d.empty('a'), d.empty('b'))));
    expect(evaluateRun(world(m)).finish).toEqual({ state: 'success', note: null });
  });

  it('schedules a retry only strictly after its retry time, with the next try number', () => {
    const at = (nextRetryAt: number) =>
      world(chain, { a: { state: 'up_for_retry', tryNumber: 1, nextRetryAt } });
    const notDue = evaluateRun(at(NOW));
    expect(notDue.transitions).toEqual([]);
    expect(notDue.waits[0]).toMatchObject({ key: { taskId: 'a' }, reason: { kind: 'retry_at', at: NOW } });
    expect(notDue.finish).toBeNull();
    const due = evaluateRun(at(NOW - 1)).transitions[0];
    expect(due?.set).toMatchObject({ state: 'scheduled', tryNumber: 2, scheduledAt: NOW, nextRetryAt: null });
    expect(due?.expect).toEqual({ state: 'up_for_retry', tryNumber: 1 });
  });

  it('reschedules a sensor from its poke time on (inclusive) without a new try number', () => {
    const at = (rescheduleAt: number) =>
      world(chain, { a: { state: 'up_for_reschedule', tryNumber: 1, rescheduleAt } });
    const early = evaluateRun(at(NOW + 1));
    expect(early.transitions).toEqual([]);
    expect(early.waits[0]?.reason).toEqual({ kind: 'reschedule_at', at: NOW + 1 });
    const due = evaluateRun(at(NOW)).transitions[0];
    expect(due?.set).toMatchObject({ state: 'scheduled', scheduledAt: NOW, rescheduleAt: null });
    expect(due?.set.tryNumber).toBeUndefined();
    expect(due?.expect).toEqual({ state: 'up_for_reschedule', tryNumber: 1 });
  });

  it('does not let a task without an instance in this run block its downstream', () => {
    // left's endDate is before the run's logical date, so the run has no instance of it.
    const m = compileDag(
      dag('dated', {}, (d) => {
        d.chain(d.task('start', noop), [
          d.task('left', { endDate: '2020-01-01' }, noop),
          d.task('right', noop),
        ]);
        d.task('join', noop).after('left', 'right');
      }),
    );
    const w = world(m, { start: 'success', right: 'success' });
    expect(w.tis.map((t) => t.taskId)).not.toContain('left');
    expect(moves(evaluateRun(w))).toEqual([['join', 'scheduled']]);
  });

  it('fails a run whose remaining tasks can never run as deadlocked', () => {
    // b needs all of its upstream to succeed, but a was removed: nothing can ever change.
    const e = evaluateRun(world(chain, { a: 'removed' }));
    expect(e.transitions).toEqual([]);
    expect(e.finish).toEqual({ state: 'failed', note: 'all_tasks_deadlocked' });
  });

  it('is not deadlocked while a retry is pending', () => {
    const w = world(chain, {
      a: 'removed',
      b: { state: 'up_for_retry', tryNumber: 1, nextRetryAt: NOW + 60_000 },
    });
    expect(evaluateRun(w).finish).toBeNull();
  });

  it('fails a run past its dagrunTimeout and skips what holds no slot, leaving queued and running work alone', () => {
    const m = compileDag(
      dag('slow', { dagrunTimeout: '30m' }, (d) => {
        d.chain(d.task('a', noop), d.task('b', noop), d.task('c', noop));
        d.chain(d.task('q', noop), d.task('r', noop), d.task('s', noop));
      }),
    );
    const states = {
      a: 'running',
      q: 'queued',
      r: { state: 'up_for_retry', tryNumber: 1, nextRetryAt: NOW - 5 },
      s: 'scheduled',
    } as const;
    const late = world(m, states, runOf(m, { startedAt: NOW - 30 * 60_000 - 1 }));
    const e = evaluateRun(late);
    expect(e.finish).toEqual({ state: 'failed', note: 'dagrun_timeout' });
    expect(moves(e).sort()).toEqual([
      ['b', 'skipped'],
      ['c', 'skipped'],
      ['r', 'skipped'],
      ['s', 'skipped'],
    ]);
    expect(e.transitions.find((t) => t.key.taskId === 'r')?.expect).toEqual({
      state: 'up_for_retry',
      tryNumber: 1,
    });
    const onTime = evaluateRun(world(m, states, runOf(m, { startedAt: NOW - 30 * 60_000 })));
    expect(onTime.finish).toBeNull();
  });

  it('does not rewrite a wait reason that has not changed', () => {
    const w = world(chain, {
      b: { state: 'none', waitReason: { kind: 'upstream_pending', pending: ['a'] } },
      c: { state: 'none', waitReason: { kind: 'upstream_pending', pending: ['a'] } },
    });
    expect(evaluateRun(w).waits.map((x) => [x.key.taskId, x.reason])).toEqual([
      ['c', { kind: 'upstream_pending', pending: ['b'] }],
    ]);
    const retry = world(chain, {
      a: {
        state: 'up_for_retry',
        tryNumber: 1,
        nextRetryAt: NOW + 5,
        waitReason: { kind: 'retry_at', at: NOW + 5 },
      },
    });
    expect(evaluateRun(retry).waits.map((x) => x.key.taskId)).toEqual(['b', 'c']);
  });

  it('leaves scheduled, queued and running instances to the claim pass and the workers', () => {
    const e = evaluateRun(world(diamond, { start: 'success', left: 'queued', right: 'running' }));
    expect(e.transitions).toEqual([]);
    expect(e.waits.map((x) => x.key.taskId)).toEqual(['join', 'cleanup']);
    expect(e.finish).toBeNull();
  });
});

// How fast these are is measured in bench/core-paths.ts (`npm run bench -- core`), not asserted here.
describe('evaluateRun on 1,000 tasks', () => {
  it('schedules a 1,000-task fan-out in one evaluation', () => {
    const big = compileDag(
      dag('big', {}, (d) => {
        const root = d.task('root', noop);
        for (let i = 0; i < 999; i += 1) root.before(d.task(`t${i}`, noop));
      }),
    );
    const w = world(big, { root: 'success' });
    expect(evaluateRun(w).transitions).toHaveLength(999);
  });

  it('cascades upstream_failed down a 1,000-task chain in one evaluation', () => {
    const long = compileDag(
      dag('long', {}, (d) => {
        let prev = d.task('t0', noop);
        for (let i = 1; i < 1000; i += 1) prev = prev.before(d.task(`t${i}`, noop));
      }),
    );
    const w = world(long, { t0: 'failed' });
    const e = evaluateRun(w);
    expect(e.transitions).toHaveLength(999);
    expect(e.transitions.every((t) => t.set.state === 'upstream_failed')).toBe(true);
    expect(e.finish).toEqual({ state: 'failed', note: null });
  });
});
