import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import type { WeightRule } from '#core/manifest.ts';
import { priorityWeightTotals, type WeightInput } from '#core/priority.ts';
import { dag } from '#sdk/index.ts';

const noop = async () => null;

/** Tasks from `upstream → downstream` pairs, every task with the same weight and rule. */
function tasks(
  ids: string[],
  edges: [string, string][],
  weightRule: WeightRule,
  priorityWeight = 1,
): WeightInput[] {
  return ids.map((taskId) => ({
    taskId,
    priorityWeight,
    weightRule,
    upstream: edges.filter(([, down]) => down === taskId).map(([up]) => up),
  }));
}

const asObject = (totals: Map<string, number>) =>
  Object.fromEntries([...totals].sort(([a], [b]) => a.localeCompare(b)));

/** Airflow's test graph: 5 stages × 5 tasks, every task of stage i upstream of every task of stage i+1. */
function stages(priorityWeight: number, weightRule: WeightRule): WeightInput[] {
  const id = (s: number, t: number) => `stage${s}_${t}`;
  return Array.from({ length: 25 }, (_, n) => {
    const [s, t] = [Math.floor(n / 5), n % 5];
    const upstream = s === 0 ? [] : Array.from({ length: 5 }, (_, u) => id(s - 1, u));
    return { taskId: id(s, t), priorityWeight, weightRule, upstream };
  });
}

const perStage = (totals: Map<string, number>) =>
  [0, 1, 2, 3, 4].map((s) => {
    const values = new Set([0, 1, 2, 3, 4].map((t) => totals.get(`stage${s}_${t}`)));
    expect(values.size).toBe(1);
    return [...values][0];
  });

describe('priorityWeightTotals', () => {
  const chain: [string, string][] = [
    ['a', 'b'],
    ['b', 'c'],
  ];
  const diamond: [string, string][] = [
    ['a', 'b'],
    ['a', 'c'],
    ['b', 'd'],
    ['c', 'd'],
  ];

  it.each([
    { rule: 'downstream' as const, expected: { a: 3, b: 2, c: 1 } },
    { rule: 'upstream' as const, expected: { a: 1, b: 2, c: 3 } },
    { rule: 'absolute' as const, expected: { a: 1, b: 1, c: 1 } },
  ])('a chain a → b → c with rule $rule', ({ rule, expected }) => {
    expect(asObject(priorityWeightTotals(tasks(['a', 'b', 'c'], chain, rule)))).toEqual(expected);
  });

  it.each([
    { rule: 'downstream' as const, expected: { a: 4, b: 2, c: 2, d: 1 } },
    { rule: 'upstream' as const, expected: { a: 1, b: 2, c: 2, d: 4 } },
    { rule: 'absolute' as const, expected: { a: 1, b: 1, c: 1, d: 1 } },
  ])('a diamond a → [b, c] → d with rule $rule counts each relative once', ({ rule, expected }) => {
    expect(asObject(priorityWeightTotals(tasks(['a', 'b', 'c', 'd'], diamond, rule)))).toEqual(expected);
  });

  it('§13 scenario 57: 5 fully connected stages, downstream, weight 5 → 105, 80, 55, 30, 5', () => {
    expect(perStage(priorityWeightTotals(stages(5, 'downstream')))).toEqual([105, 80, 55, 30, 5]);
  });

  it('§13 scenario 58: 5 fully connected stages, upstream, weight 3 → 3, 18, 33, 48, 63', () => {
    expect(perStage(priorityWeightTotals(stages(3, 'upstream')))).toEqual([3, 18, 33, 48, 63]);
  });

  it('§13 scenario 59: 5 fully connected stages, absolute, weight 10 → 10', () => {
    expect(perStage(priorityWeightTotals(stages(10, 'absolute')))).toEqual([10, 10, 10, 10, 10]);
  });

  it("sums the relatives' own weights, not their totals or rules", () => {
    const totals = priorityWeightTotals([
      { taskId: 'a', priorityWeight: 1, weightRule: 'downstream', upstream: [] },
      { taskId: 'b', priorityWeight: 10, weightRule: 'absolute', upstream: ['a'] },
      { taskId: 'c', priorityWeight: 100, weightRule: 'upstream', upstream: ['b'] },
    ]);
    expect(asObject(totals)).toEqual({ a: 111, b: 10, c: 111 });
  });

  it('adds negative and mixed weights exactly, over more than 32 tasks', () => {
    const ids = Array.from({ length: 70 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const input = ids.map((taskId, i) => ({
      taskId,
      priorityWeight: i % 3 === 0 ? -i : i * 7,
      weightRule: 'downstream' as const,
      upstream: i === 0 ? [] : [ids[i - 1]!],
    }));
    const totals = priorityWeightTotals(input);
    for (let i = 0; i < 70; i += 1) {
      const expected = input.slice(i).reduce((sum, t) => sum + t.priorityWeight, 0);
      expect(totals.get(ids[i]!)).toBe(expected);
    }
  });

  it('clamps a total to a 32-bit integer, as Airflow 3 does', () => {
    const big = 2 ** 31 - 1;
    const totals = priorityWeightTotals(tasks(['a', 'b', 'c'], chain, 'downstream', big));
    expect(asObject(totals)).toEqual({ a: big, b: big, c: big });
    const low = priorityWeightTotals(tasks(['a', 'b'], [['a', 'b']], 'upstream', -(2 ** 31)));
    expect(low.get('b')).toBe(-(2 ** 31));
  });
});

describe('priority weight totals in compiled DAGs', () => {
  it('match §13 scenario 57 for the DAG written with the SDK', () => {
    const def = dag('stages', {}, (d) => {
      const rows = Array.from({ length: 5 }, (_, s) =>
        Array.from({ length: 5 }, (_, t) => d.task(`stage${s}_${t}`, { priorityWeight: 5 }, noop)),
      );
      for (let s = 0; s < 4; s += 1) for (const up of rows[s]!) up.then(rows[s + 1]!);
    });
    const totals = new Map(compileDag(def).tasks.map((t) => [t.taskId, t.priorityWeightTotal]));
    expect(perStage(totals)).toEqual([105, 80, 55, 30, 5]);
  });

  it('follow the rule set in defaultArgs', () => {
    const def = dag('chain', { defaultArgs: { weightRule: 'upstream' } }, (d) => {
      d.chain(d.task('a', noop), d.task('b', noop), d.task('c', noop));
    });
    expect(compileDag(def).tasks.map((t) => [t.taskId, t.priorityWeightTotal])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
  });
});
