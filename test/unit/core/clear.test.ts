import { describe, expect, it } from 'vitest';
import { planClear } from '#core/clear.ts';
import { compileDag } from '#core/compile.ts';
import { InputError } from '#core/errors.ts';
import type { DagManifest } from '#core/manifest.ts';
import type { DagRun, TaskInstance } from '#core/model.ts';
import { dag } from '#sdk/index.ts';
import { diamond, NOW, noop, runOf, world } from './run-fixtures.ts';

function clear(
  run: DagRun,
  tis: TaskInstance[],
  options: { taskIds: string[]; downstream?: boolean; onlyFailed?: boolean; manifest?: DagManifest },
) {
  return planClear({
    dag: options.manifest ?? diamond,
    run,
    tis,
    taskIds: options.taskIds,
    downstream: options.downstream ?? false,
    onlyFailed: options.onlyFailed ?? false,
    now: NOW,
  });
}

const ids = (ts: { key: { taskId: string } }[]) => ts.map((t) => t.key.taskId).sort();

describe('planClear', () => {
  const failedRun = runOf(diamond, { state: 'failed', endedAt: NOW, note: 'all_tasks_deadlocked' });
  const { tis } = world(
    diamond,
    {
      start: 'success',
      left: {
        state: 'failed',
        tryNumber: 3,
        maxTries: 2,
        startedAt: NOW - 60_000,
        endedAt: NOW - 1000,
        error: 'boom',
        nextRetryAt: NOW - 5000,
        dispatchAttempts: 2,
        waitReason: { kind: 'retry_at', at: NOW - 5000 },
      },
      right: 'success',
      join: 'upstream_failed',
      cleanup: 'success',
    },
    failedRun,
  );

  it('clears only the given tasks without downstream', () => {
    const plan = clear(failedRun, tis, { taskIds: ['left', 'right'] });
    expect(ids(plan.transitions)).toEqual(['left', 'right']);
    expect(plan.endTries).toEqual([]);
  });

  it('clears a task with everything transitively downstream of it', () => {
    const plan = clear(failedRun, tis, { taskIds: ['left'], downstream: true });
    expect(ids(plan.transitions)).toEqual(['cleanup', 'join', 'left']);
  });

  it('resets a cleared instance to none with a fresh retry budget, keeping its try number', () => {
    const retrying = compileDag(
      dag('r', {}, (d) => void d.chain(d.task('a', { retries: 2 }, noop), d.task('b', noop))),
    );
    const run = runOf(retrying, { state: 'failed', endedAt: NOW });
    const { taskId: _, runId: __, dagId: ___, ...tried } = tis.find((t) => t.taskId === 'left')!;
    const w = world(retrying, { a: tried, b: 'upstream_failed' }, run);
    const [a] = clear(run, w.tis, { taskIds: ['a'], manifest: retrying }).transitions;
    expect(a?.expect).toEqual({ state: 'failed', tryNumber: 3 });
    expect(a?.set).toEqual({
      state: 'none',
      maxTries: 5,
      scheduledAt: null,
      queuedAt: null,
      startedAt: null,
      endedAt: null,
      heartbeatAt: null,
      nextRetryAt: null,
      rescheduleAt: null,
      firstPokeAt: null,
      dispatchAttempts: 0,
      waitReason: null,
      workerId: null,
      error: null,
      result: null,
    });
    expect(a?.set.tryNumber).toBeUndefined();
  });

  it('clears only failed and upstream_failed instances with onlyFailed', () => {
    const plan = clear(failedRun, tis, { taskIds: diamond.tasks.map((t) => t.taskId), onlyFailed: true });
    expect(ids(plan.transitions)).toEqual(['join', 'left']);
  });

  it('combines onlyFailed with downstream', () => {
    const plan = clear(failedRun, tis, { taskIds: ['start'], downstream: true, onlyFailed: true });
    expect(ids(plan.transitions)).toEqual(['join', 'left']);
  });

  it('puts a finished run back to queued with the next clear number', () => {
    const plan = clear({ ...failedRun, clearNumber: 2 }, tis, { taskIds: ['left'] });
    expect(plan.run).toEqual({
      expect: 'failed',
      set: { state: 'queued', startedAt: null, endedAt: null, note: null, clearNumber: 3 },
    });
    const succeeded = runOf(diamond, { state: 'success', endedAt: NOW });
    expect(clear(succeeded, tis, { taskIds: ['start'] }).run).toMatchObject({
      expect: 'success',
      set: { state: 'queued', clearNumber: 1 },
    });
  });

  it('leaves the run alone when nothing was cleared', () => {
    const plan = clear(failedRun, tis, { taskIds: ['start'], onlyFailed: true });
    expect(plan.transitions).toEqual([]);
    expect(plan.run).toBeNull();
  });

  it('ends the tries of queued and running instances instead of rewriting them, and leaves a running run alone', () => {
    const running = runOf(diamond);
    const live = world(
      diamond,
      { start: 'success', left: 'running', right: 'queued', join: 'none', cleanup: 'none' },
      running,
    ).tis;
    const plan = clear(running, live, { taskIds: ['start'], downstream: true });
    expect(ids(plan.endTries)).toEqual(['left', 'right']);
    expect(plan.endTries.find((t) => t.key.taskId === 'left')).toMatchObject({
      expect: { state: 'running', tryNumber: 1 },
      set: { state: 'none', maxTries: 1 },
    });
    expect(ids(plan.transitions)).toEqual(['cleanup', 'join', 'start']);
    expect(plan.run).toBeNull();
  });

  it('leaves a queued run alone', () => {
    const queued = runOf(diamond, { state: 'queued', startedAt: null });
    expect(clear(queued, world(diamond, {}, queued).tis, { taskIds: ['start'] }).run).toBeNull();
  });

  it('rejects a task id the DAG does not have, naming it', () => {
    expect(() => clear(failedRun, tis, { taskIds: ['nope'] })).toThrow(InputError);
    expect(() => clear(failedRun, tis, { taskIds: ['nope'] })).toThrow(
      /taskIds: no task nope in DAG diamond/,
    );
  });
});
