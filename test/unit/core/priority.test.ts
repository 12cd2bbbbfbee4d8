import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import type { WeightRule } from '#core/manifest.ts';
import { dag } from '#sdk/index.ts';

const noop = async () => null;

function totals(def: ReturnType<typeof dag>) {
  return Object.fromEntries(compileDag(def).tasks.map((t) => [t.taskId, t.priorityWeightTotal]));
}

/** 5 stages × 5 tasks, every task of stage i upstream of every task of stage i+1 (Airflow's test graph). */
function stages(weight: number, weightRule: WeightRule) {
  return dag('stages', {}, (d) => {
    const rows = Array.from({ length: 5 }, (_, s) =>
      Array.from({ length: 5 }, (_, t) =>
        d.task(`stage${s}_${t}`, { priorityWeight: weight, weightRule }, noop),
      ),
    );
    for (let s = 0; s < 4; s += 1) for (const up of rows[s]!) up.before(rows[s + 1]!);
  });
}

describe('priority weights', () => {
  it.each([
    { rule: 'downstream' as const, expected: { a: 3, b: 2, c: 1 } },
    { rule: 'upstream' as const, expected: { a: 1, b: 2, c: 3 } },
    { rule: 'absolute' as const, expected: { a: 1, b: 1, c: 1 } },
  ])('a chain a → b → c with rule $rule', ({ rule, expected }) => {
    const def = dag('chain', { defaultArgs: { weightRule: rule } }, (d) => {
      d.chain(d.task('a', noop), d.task('b', noop), d.task('c', noop));
    });
    expect(totals(def)).toEqual(expected);
  });

  it('counts each relative of a diamond once', () => {
    const def = dag('diamond', {}, (d) =>
      d.chain(d.task('a', noop), [d.task('b', noop), d.task('c', noop)], d.task('d', noop)),
    );
    expect(totals(def)).toEqual({ a: 4, b: 2, c: 2, d: 1 });
  });

  it('matches Airflow for 5 fully connected stages, downstream, weight 5: 105, 80, 55, 30, 5', () => {
    const t = totals(stages(5, 'downstream'));
    expect([0, 1, 2, 3, 4].map((s) => t[`stage${s}_0`])).toEqual([105, 80, 55, 30, 5]);
  });

  it('matches Airflow for 5 fully connected stages, upstream, weight 3: 3, 18, 33, 48, 63', () => {
    const t = totals(stages(3, 'upstream'));
    expect([0, 1, 2, 3, 4].map((s) => t[`stage${s}_0`])).toEqual([3, 18, 33, 48, 63]);
  });

  it('uses the own weight only with the absolute rule', () => {
    const t = totals(stages(10, 'absolute'));
    expect(new Set(Object.values(t))).toEqual(new Set([10]));
  });

  it("sums the relatives' own weights, not their totals or rules", () => {
    const def = dag('mixed', {}, (d) => {
      const a = d.task('a', { priorityWeight: 1 }, noop);
      const b = d.task('b', { priorityWeight: 10, weightRule: 'absolute' }, noop);
      const c = d.task('c', { priorityWeight: 100, weightRule: 'upstream' }, noop);
      a.before(b).before(c);
    });
    expect(totals(def)).toEqual({ a: 111, b: 10, c: 111 });
  });
});
