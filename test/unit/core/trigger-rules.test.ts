import { describe, expect, it } from 'vitest';
import { TRIGGER_RULES, type TriggerRule } from '#core/manifest.ts';
import { evaluateTriggerRule } from '#core/trigger-rules.ts';

/** Airflow's test_check_task_dependencies: 5 direct upstream tasks; counts of finished ones S,K,F,UF,R. */
function counts(s: number, k: number, f: number, uf: number, r = 0) {
  return { upstream: 5, success: s, skipped: k, failed: f, upstreamFailed: uf, removed: r };
}

describe('evaluateTriggerRule', () => {
  it.each([
    { rule: 'all_success', c: counts(5, 0, 0, 0), passes: true, state: null },
    { rule: 'all_success', c: counts(2, 0, 0, 0), passes: false, state: null },
    { rule: 'all_success', c: counts(2, 0, 1, 0), passes: false, state: 'upstream_failed' },
    { rule: 'all_success', c: counts(2, 1, 0, 0), passes: false, state: 'skipped' },
    { rule: 'one_success', c: counts(2, 0, 0, 0), passes: true, state: null },
    { rule: 'one_success', c: counts(2, 0, 1, 0), passes: true, state: null },
    { rule: 'one_success', c: counts(0, 5, 0, 0), passes: false, state: 'skipped' },
    { rule: 'one_success', c: counts(0, 4, 1, 0), passes: false, state: 'upstream_failed' },
    { rule: 'one_success', c: counts(0, 0, 0, 5), passes: false, state: 'upstream_failed' },
    { rule: 'all_failed', c: counts(5, 0, 0, 0), passes: false, state: 'skipped' },
    { rule: 'all_failed', c: counts(0, 0, 5, 0), passes: true, state: null },
    { rule: 'all_failed', c: counts(2, 0, 0, 0), passes: false, state: 'skipped' },
    { rule: 'one_failed', c: counts(5, 0, 0, 0), passes: false, state: 'skipped' },
    { rule: 'one_failed', c: counts(2, 0, 0, 0), passes: false, state: null },
    { rule: 'one_failed', c: counts(2, 0, 1, 0), passes: true, state: null },
    { rule: 'one_failed', c: counts(2, 3, 0, 0), passes: false, state: 'skipped' },
    { rule: 'all_done', c: counts(5, 0, 0, 0), passes: true, state: null },
    { rule: 'all_done', c: counts(2, 0, 1, 0), passes: false, state: null },
  ] as { rule: TriggerRule; c: ReturnType<typeof counts>; passes: boolean; state: string | null }[])(
    "Airflow's table: $rule with S,K,F,UF = $c.success,$c.skipped,$c.failed,$c.upstreamFailed → passes $passes, sets $state",
    ({ rule, c, passes, state }) => {
      expect(evaluateTriggerRule(rule, c)).toEqual({ passes, setState: state });
    },
  );

  it.each([
    { rule: 'one_done', c: counts(0, 0, 1, 0), expected: { passes: true, setState: null } },
    { rule: 'one_done', c: counts(0, 5, 0, 0), expected: { passes: false, setState: 'skipped' } },
    { rule: 'one_done', c: counts(0, 2, 0, 0), expected: { passes: false, setState: null } },
    { rule: 'none_failed', c: counts(3, 2, 0, 0), expected: { passes: true, setState: null } },
    { rule: 'none_failed', c: counts(3, 0, 0, 1), expected: { passes: false, setState: 'upstream_failed' } },
    {
      rule: 'none_failed_min_one_success',
      c: counts(0, 5, 0, 0),
      expected: { passes: false, setState: 'skipped' },
    },
    {
      rule: 'none_failed_min_one_success',
      c: counts(1, 4, 0, 0),
      expected: { passes: true, setState: null },
    },
    {
      rule: 'none_failed_min_one_success',
      c: counts(1, 3, 1, 0),
      expected: { passes: false, setState: 'upstream_failed' },
    },
    { rule: 'none_skipped', c: counts(4, 0, 1, 0), expected: { passes: true, setState: null } },
    { rule: 'none_skipped', c: counts(1, 1, 0, 0), expected: { passes: false, setState: 'skipped' } },
    { rule: 'all_skipped', c: counts(0, 5, 0, 0), expected: { passes: true, setState: null } },
    { rule: 'all_skipped', c: counts(1, 2, 0, 0), expected: { passes: false, setState: 'skipped' } },
    { rule: 'always', c: counts(0, 0, 0, 0), expected: { passes: true, setState: null } },
  ] as { rule: TriggerRule; c: ReturnType<typeof counts>; expected: unknown }[])(
    '$rule with S,K,F,UF = $c.success,$c.skipped,$c.failed,$c.upstreamFailed',
    ({ rule, c, expected }) => {
      expect(evaluateTriggerRule(rule, c)).toEqual(expected);
    },
  );

  it.each(TRIGGER_RULES)('passes %s for a task without upstream', (rule) => {
    const none = { upstream: 0, success: 0, skipped: 0, failed: 0, upstreamFailed: 0, removed: 0 };
    expect(evaluateTriggerRule(rule, none)).toEqual({ passes: true, setState: null });
  });

  it('passes always at once, before any upstream finished, and whatever they ended as', () => {
    expect(evaluateTriggerRule('always', counts(0, 0, 0, 0))).toEqual({ passes: true, setState: null });
    expect(evaluateTriggerRule('always', counts(0, 0, 2, 3))).toEqual({ passes: true, setState: null });
  });

  it('waits on everything while no upstream has finished', () => {
    for (const rule of TRIGGER_RULES.filter((r) => r !== 'always'))
      expect(evaluateTriggerRule(rule, counts(0, 0, 0, 0))).toEqual({ passes: false, setState: null });
  });

  it.each([
    { rule: 'all_success', c: counts(4, 0, 0, 0, 1), expected: { passes: false, setState: null } },
    { rule: 'none_failed', c: counts(4, 0, 0, 0, 1), expected: { passes: false, setState: null } },
    { rule: 'all_done', c: counts(4, 0, 0, 0, 1), expected: { passes: true, setState: null } },
    {
      rule: 'one_success',
      c: counts(0, 4, 0, 0, 1),
      expected: { passes: false, setState: 'upstream_failed' },
    },
    { rule: 'all_failed', c: counts(0, 0, 2, 3), expected: { passes: true, setState: null } },
    { rule: 'one_failed', c: counts(0, 0, 0, 1), expected: { passes: true, setState: null } },
    { rule: 'all_skipped', c: counts(0, 1, 0, 1), expected: { passes: false, setState: 'skipped' } },
    { rule: 'none_skipped', c: counts(0, 0, 5, 0), expected: { passes: true, setState: null } },
  ] as { rule: TriggerRule; c: ReturnType<typeof counts>; expected: unknown }[])(
    'edge: $rule with S,K,F,UF,R = $c.success,$c.skipped,$c.failed,$c.upstreamFailed,$c.removed',
    ({ rule, c, expected }) => {
      expect(evaluateTriggerRule(rule, c)).toEqual(expected);
    },
  );

  it('refuses a rule it does not know instead of guessing', () => {
    expect(() => evaluateTriggerRule('dummy' as TriggerRule, counts(5, 0, 0, 0))).toThrow(/trigger rule/);
  });
});
