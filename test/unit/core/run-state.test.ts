import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import type { DagManifest } from '#core/manifest.ts';
import { decideRunState, isDeadlocked } from '#core/run-state.ts';
import type { TiState } from '#core/states.ts';
import { dag } from '#sdk/index.ts';
import { diamond, noop } from './run-fixtures.ts';

function tis(states: Record<string, TiState>) {
  return Object.entries(states).map(([taskId, state]) => ({ taskId, state }));
}

/** start → [left, right] → join → cleanup: the only leaf is cleanup. */
const finished = { start: 'success', left: 'success', right: 'success', join: 'success' } as const;

/** Two leaves: a → b, a → c. */
const fork = compileDag(
  dag('fork', {}, (d) => void d.chain(d.task('a', noop), [d.task('b', noop), d.task('c', noop)])),
);

describe('decideRunState', () => {
  it('keeps a run with unfinished instances running', () => {
    expect(decideRunState(diamond, tis({ ...finished, cleanup: 'running' }))).toEqual({ state: 'running' });
    expect(decideRunState(fork, tis({ a: 'success', b: 'failed', c: 'scheduled' }))).toEqual({
      state: 'running',
    });
  });

  it('succeeds when every leaf succeeded', () => {
    expect(decideRunState(diamond, tis({ ...finished, cleanup: 'success' }))).toEqual({
      state: 'success',
      note: null,
    });
  });

  it.each(['failed', 'upstream_failed'] as const)('fails when a leaf is %s', (state) => {
    expect(decideRunState(fork, tis({ a: 'success', b: 'success', c: state }))).toEqual({
      state: 'failed',
      note: null,
    });
  });

  it('ignores failures that are not leaves', () => {
    const states = tis({
      start: 'success',
      left: 'failed',
      right: 'success',
      join: 'upstream_failed',
      cleanup: 'success',
    });
    expect(decideRunState(diamond, states)).toEqual({ state: 'success', note: null });
  });

  it('succeeds when every instance was skipped, and when leaves were removed', () => {
    expect(decideRunState(fork, tis({ a: 'skipped', b: 'skipped', c: 'skipped' }))).toEqual({
      state: 'success',
      note: null,
    });
    expect(decideRunState(fork, tis({ a: 'success', b: 'removed', c: 'skipped' }))).toEqual({
      state: 'success',
      note: null,
    });
    expect(decideRunState(fork, tis({ a: 'removed', b: 'removed', c: 'removed' }))).toEqual({
      state: 'success',
      note: null,
    });
  });

  it('fails a run stuck in none with nothing changed as all_tasks_deadlocked', () => {
    const stuck = tis({ a: 'removed', b: 'none', c: 'none' });
    expect(decideRunState(fork, stuck)).toEqual({ state: 'failed', note: 'all_tasks_deadlocked' });
    expect(decideRunState(fork, stuck, { changed: true })).toEqual({ state: 'running' });
  });
});

describe('isDeadlocked', () => {
  const limited = (limit: 'maxActiveTisPerDag' | 'maxActiveTisPerDagrun'): DagManifest =>
    compileDag(dag('limited', {}, (d) => void d.chain(d.task('a', noop), d.task('b', { [limit]: 1 }, noop))));

  it('is deadlocked only when every unfinished instance waits in none', () => {
    expect(isDeadlocked(fork, tis({ a: 'removed', b: 'none', c: 'none' }), false)).toBe(true);
    for (const waiting of ['scheduled', 'queued', 'running', 'up_for_retry', 'up_for_reschedule'] as const)
      expect(isDeadlocked(fork, tis({ a: 'removed', b: 'none', c: waiting }), false)).toBe(false);
  });

  it('is never deadlocked once everything finished', () => {
    expect(isDeadlocked(fork, tis({ a: 'failed', b: 'upstream_failed', c: 'upstream_failed' }), false)).toBe(
      false,
    );
  });

  it.each(['maxActiveTisPerDag', 'maxActiveTisPerDagrun'] as const)(
    'never declares a deadlock while an unfinished task has %s',
    (limit) => {
      expect(isDeadlocked(limited(limit), tis({ a: 'removed', b: 'none' }), false)).toBe(false);
      // A finished limited task does not protect the others.
      const m = limited(limit);
      expect(isDeadlocked(m, tis({ a: 'none', b: 'success' }), false)).toBe(true);
    },
  );
});
