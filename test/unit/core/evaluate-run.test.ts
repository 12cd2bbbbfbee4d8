import { describe, expect, it } from 'vitest';
import { planClear } from '#core/clear.ts';
import { compileDag } from '#core/compile.ts';
import { evaluateRun } from '#core/evaluate-run.ts';
import type { DagManifest } from '#core/manifest.ts';
import type { DagRun, TaskInstance } from '#core/model.ts';
import { makeTaskInstances } from '#core/runs.ts';
import type { TiState } from '#core/states.ts';
import { canTransition } from '#core/transitions.ts';
import { dag } from '#sdk/index.ts';

const NOW = Date.parse('2026-01-05T12:00:00Z');
const noop = async () => null;

function runOf(manifest: DagManifest, patch: Partial<DagRun> = {}): DagRun {
  return {
    dagId: manifest.dagId,
    runId: 'manual__1',
    runType: 'manual',
    state: 'running',
    logicalDate: NOW - 3_600_000,
    dataIntervalStart: NOW - 3_600_000,
    dataIntervalEnd: NOW,
    runAfter: NOW - 3_600_000,
    dagVersion: manifest.hash,
    conf: {},
    backfillId: null,
    backfillOrdinal: null,
    createdAt: NOW - 3_600_000,
    startedAt: NOW - 3_600_000,
    endedAt: null,
    clearNumber: 0,
    note: null,
    ...patch,
  };
}

/** Instances of a run with some states set: `{ a: 'failed' }`. */
function world(
  manifest: DagManifest,
  states: Record<string, TiState | Partial<TaskInstance>> = {},
  run = runOf(manifest),
) {
  const tis = makeTaskInstances(manifest, run).map((ti) => {
    const s = states[ti.taskId];
    if (s === undefined) return ti;
    return typeof s === 'string' ? { ...ti, state: s, tryNumber: s === 'none' ? 0 : 1 } : { ...ti, ...s };
  });
  return { dag: manifest, run, tis, now: NOW };
}

function statesAfter(evaluation: ReturnType<typeof evaluateRun>, tis: TaskInstance[]) {
  const states = Object.fromEntries(tis.map((ti) => [ti.taskId, ti.state as string]));
  for (const t of evaluation.transitions) states[t.key.taskId] = t.set.state;
  return states;
}

const chain = compileDag(
  dag('chain', {}, (d) => void d.chain(d.task('a', noop), d.task('b', noop), d.task('c', noop))),
);
const diamond = compileDag(
  dag('diamond', {}, (d) => {
    d.chain(d.task('start', noop), [d.task('left', noop), d.task('right', noop)], d.task('join', noop));
    d.task('cleanup', { triggerRule: 'all_done' }, noop).after('join');
  }),
);

describe('evaluateRun', () => {
  it('schedules the roots of a new run and says what the others wait for', () => {
    const w = world(chain);
    const e = evaluateRun(w);
    expect(e.transitions.map((t) => [t.key.taskId, t.set.state, t.set.tryNumber])).toEqual([
      ['a', 'scheduled', 1],
    ]);
    expect(e.waits.map((x) => [x.key.taskId, x.reason])).toEqual([
      ['b', { kind: 'upstream_pending', pending: ['a'] }],
      ['c', { kind: 'upstream_pending', pending: ['b'] }],
    ]);
    expect(e.finish).toBeNull();
  });

  it('fails fast: a failed root marks the whole chain upstream_failed in one evaluation and fails the run', () => {
    const w = world(chain, { a: 'failed' });
    const e = evaluateRun(w);
    expect(statesAfter(e, w.tis)).toEqual({ a: 'failed', b: 'upstream_failed', c: 'upstream_failed' });
    expect(e.finish).toEqual({ state: 'failed', note: null });
  });

  it('runs an all_done cleanup after a failure, and the run fails on its failed leaf path', () => {
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
    // The only leaf (cleanup) succeeded: a non-leaf failure does not fail the run (Airflow's leaf rule).
    expect(evaluateRun(done).finish).toEqual({ state: 'success', note: null });
  });

  it('cascades skips through branches and succeeds when every leaf is skipped', () => {
    const w = world(chain, { a: 'skipped' });
    const e = evaluateRun(w);
    expect(statesAfter(e, w.tis)).toEqual({ a: 'skipped', b: 'skipped', c: 'skipped' });
    expect(e.finish).toEqual({ state: 'success', note: null });
  });

  it('succeeds empty tasks without dispatching them, in the same evaluation as their downstream', () => {
    const m = compileDag(dag('e', {}, (d) => void d.empty('gate').before(d.task('work', noop))));
    const e = evaluateRun(world(m));
    expect(e.transitions.map((t) => [t.key.taskId, t.set.state])).toEqual([
      ['gate', 'success'],
      ['work', 'scheduled'],
    ]);
  });

  it('schedules a retry only strictly after its retry time', () => {
    const at = (nextRetryAt: number) =>
      world(chain, { a: { state: 'up_for_retry', tryNumber: 1, nextRetryAt } });
    expect(evaluateRun(at(NOW)).transitions).toEqual([]);
    expect(evaluateRun(at(NOW)).waits[0]?.reason).toEqual({ kind: 'retry_at', at: NOW });
    const due = evaluateRun(at(NOW - 1)).transitions[0];
    expect(due?.set).toMatchObject({ state: 'scheduled', tryNumber: 2 });
    expect(due?.expect).toEqual({ state: 'up_for_retry', tryNumber: 1 });
  });

  it('reschedules a sensor at its poke time without a new try number', () => {
    const w = world(chain, { a: { state: 'up_for_reschedule', tryNumber: 1, rescheduleAt: NOW } });
    expect(evaluateRun(w).transitions[0]?.set).toMatchObject({ state: 'scheduled', scheduledAt: NOW });
    expect(evaluateRun(w).transitions[0]?.set.tryNumber).toBeUndefined();
  });

  it('fails a run whose remaining tasks can never run as deadlocked', () => {
    // b needs all of its upstream to succeed, but a was removed: nothing can ever change.
    const w = world(chain, { a: 'removed' });
    const e = evaluateRun(w);
    expect(e.finish).toEqual({ state: 'failed', note: 'all_tasks_deadlocked' });
  });

  it('fails a run past its dagrunTimeout and skips what holds no slot, leaving running work alone', () => {
    const m = compileDag(
      dag(
        'slow',
        { dagrunTimeout: '30m' },
        (d) => void d.chain(d.task('a', noop), d.task('b', noop), d.task('c', noop)),
      ),
    );
    const w = world(m, { a: 'running', b: 'none' }, runOf(m, { startedAt: NOW - 31 * 60_000 }));
    const e = evaluateRun(w);
    expect(e.finish).toEqual({ state: 'failed', note: 'dagrun_timeout' });
    expect(e.transitions.map((t) => [t.key.taskId, t.set.state])).toEqual([
      ['b', 'skipped'],
      ['c', 'skipped'],
    ]);
  });

  it('does not rewrite a wait reason that has not changed', () => {
    const w = world(chain, {
      b: { state: 'none', waitReason: { kind: 'upstream_pending', pending: ['a'] } },
    });
    expect(evaluateRun(w).waits.map((x) => x.key.taskId)).toEqual(['c']);
  });

  it('evaluates a 1,000-task run quickly', () => {
    const big = compileDag(
      dag('big', {}, (d) => {
        const root = d.task('root', noop);
        for (let i = 0; i < 999; i += 1) root.before(d.task(`t${i}`, noop));
      }),
    );
    const w = world(big, { root: 'success' });
    const started = performance.now();
    const e = evaluateRun(w);
    expect(performance.now() - started).toBeLessThan(100);
    expect(e.transitions).toHaveLength(999);
  });
});

describe('planClear', () => {
  const finished = runOf(diamond, { state: 'failed', endedAt: NOW });
  const tis = world(
    diamond,
    { start: 'success', left: 'failed', right: 'success', join: 'upstream_failed', cleanup: 'success' },
    finished,
  ).tis;

  it('clears a task with everything downstream of it and re-queues the finished run', () => {
    const plan = planClear({
      dag: diamond,
      run: finished,
      tis,
      taskIds: ['left'],
      downstream: true,
      onlyFailed: false,
      now: NOW,
    });
    expect(plan.transitions.map((t) => t.key.taskId).sort()).toEqual(['cleanup', 'join', 'left']);
    expect(plan.transitions[0]?.set).toMatchObject({ state: 'none', maxTries: 1, error: null });
    expect(plan.run).toEqual({
      expect: 'failed',
      set: expect.objectContaining({ state: 'queued', clearNumber: 1 }),
    });
  });

  it('clears only the failed ones when asked', () => {
    const plan = planClear({
      dag: diamond,
      run: finished,
      tis,
      taskIds: diamond.tasks.map((t) => t.taskId),
      downstream: false,
      onlyFailed: true,
      now: NOW,
    });
    expect(plan.transitions.map((t) => t.key.taskId).sort()).toEqual(['join', 'left']);
  });

  it('ends the try of a running instance instead of rewriting it, and leaves a running run alone', () => {
    const running = runOf(diamond);
    const live = world(diamond, { start: 'running' }, running).tis;
    const plan = planClear({
      dag: diamond,
      run: running,
      tis: live,
      taskIds: ['start'],
      downstream: false,
      onlyFailed: false,
      now: NOW,
    });
    expect(plan.endTries.map((t) => t.key.taskId)).toEqual(['start']);
    expect(plan.transitions).toEqual([]);
    expect(plan.run).toBeNull();
  });
});

describe('task-instance transitions', () => {
  it.each([
    ['none', 'scheduled'],
    ['scheduled', 'queued'],
    ['queued', 'running'],
    ['queued', 'scheduled'],
    ['running', 'up_for_reschedule'],
    ['up_for_retry', 'scheduled'],
    ['success', 'none'],
  ] as [TiState, TiState][])('allows %s → %s', (from, to) => expect(canTransition(from, to)).toBe(true));

  it.each([
    ['success', 'running'],
    ['none', 'running'],
    ['scheduled', 'running'],
    ['failed', 'scheduled'],
  ] as [TiState, TiState][])('refuses %s → %s', (from, to) => expect(canTransition(from, to)).toBe(false));
});
