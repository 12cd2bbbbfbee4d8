import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '#core/errors.ts';
import { TI_STATES, type TiState } from '#core/states.ts';
import { assertTransition, canTransition } from '#core/transitions.ts';

describe('task-instance transitions', () => {
  it.each([
    ['none', 'scheduled'],
    ['none', 'skipped'],
    ['none', 'upstream_failed'],
    ['none', 'removed'],
    ['none', 'success'], // empty tasks
    ['scheduled', 'queued'],
    ['scheduled', 'skipped'], // dagrun timeout
    ['queued', 'running'],
    ['queued', 'scheduled'], // stuck in queued: dispatch again
    ['queued', 'failed'], // dispatch retries exhausted
    ['queued', 'up_for_retry'],
    ['queued', 'none'], // the run finished before the try started
    ['running', 'success'],
    ['running', 'failed'],
    ['running', 'up_for_retry'],
    ['running', 'up_for_reschedule'],
    ['running', 'skipped'],
    ['up_for_retry', 'scheduled'],
    ['up_for_retry', 'skipped'],
    ['up_for_reschedule', 'scheduled'],
    ['up_for_reschedule', 'skipped'],
    // Marking a run success or failed (the API and console).
    ['scheduled', 'success'],
    ['queued', 'success'],
    ['queued', 'skipped'],
    ['up_for_retry', 'success'],
    ['up_for_reschedule', 'success'],
    ['failed', 'success'],
    ['upstream_failed', 'success'],
    ['skipped', 'success'],
  ] as [TiState, TiState][])('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to, 'd/r/t/-1')).not.toThrow();
  });

  it.each(TI_STATES)('allows %s → none (clear)', (from) => expect(canTransition(from, 'none')).toBe(true));

  it.each([
    ['none', 'running'],
    ['none', 'queued'],
    ['none', 'failed'],
    ['scheduled', 'running'],
    ['running', 'queued'],
    ['running', 'scheduled'],
    ['up_for_retry', 'running'],
    ['up_for_retry', 'queued'],
    ['up_for_reschedule', 'running'],
    ['success', 'running'],
    ['success', 'scheduled'],
    ['failed', 'scheduled'],
    ['failed', 'up_for_retry'],
    ['skipped', 'scheduled'],
    ['upstream_failed', 'scheduled'],
    ['removed', 'scheduled'],
  ] as [TiState, TiState][])('refuses %s → %s', (from, to) => expect(canTransition(from, to)).toBe(false));

  it('leaves a finished instance only by clearing, or by marking it success', () => {
    for (const from of ['success', 'removed'] as const)
      expect(TI_STATES.filter((to) => canTransition(from, to))).toEqual(['none']);
    for (const from of ['failed', 'skipped', 'upstream_failed'] as const)
      expect(TI_STATES.filter((to) => canTransition(from, to))).toEqual(['none', 'success']);
  });

  it('throws IllegalTransitionError naming the states and the instance', () => {
    expect(() => assertTransition('success', 'running', 'etl/r1/load/-1')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('success', 'running', 'etl/r1/load/-1')).toThrow(
      'illegal transition success → running for etl/r1/load/-1',
    );
  });
});
