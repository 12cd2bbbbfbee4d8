import { describe, expect, it } from 'vitest';
import { type ClaimCandidate, compareClaimOrder, selectClaims } from '#core/claim.ts';
import { candidate, label, makeState, makeTi } from './claim-fixtures.ts';

function claimedLabels(candidates: ClaimCandidate[], maxClaims = 100, state = makeState()): string[] {
  return selectClaims({ candidates, state, maxClaims }).claims.map((c) => label(c.ti));
}

describe('compareClaimOrder', () => {
  it('orders by weight desc, logical date asc, then dagId, runId, taskId and mapIndex asc', () => {
    // Prepare: listed in the expected order, each differing from the previous by one key.
    const expected = [
      makeTi({ priorityWeight: 9, logicalDate: 5 }),
      makeTi({ priorityWeight: 2, logicalDate: 1, dagId: 'z' }),
      makeTi({ priorityWeight: 2, logicalDate: 3, dagId: 'a' }),
      makeTi({ priorityWeight: 2, logicalDate: 3, dagId: 'b', runId: 'a', taskId: 'z' }),
      makeTi({ priorityWeight: 2, logicalDate: 3, dagId: 'b', runId: 'b', taskId: 'a' }),
      makeTi({ priorityWeight: 2, logicalDate: 3, dagId: 'b', runId: 'b', taskId: 'b', mapIndex: -1 }),
      makeTi({ priorityWeight: 2, logicalDate: 3, dagId: 'b', runId: 'b', taskId: 'b', mapIndex: 2 }),
      makeTi({ priorityWeight: 2, logicalDate: 3, dagId: 'b', runId: 'b', taskId: 'b', mapIndex: 10 }),
      makeTi({ priorityWeight: -3, logicalDate: 0 }),
    ];

    // Act
    const sorted = [...expected].reverse().sort(compareClaimOrder);

    // Assess
    expect(sorted).toEqual(expected);
  });

  it('compares ids by code unit, not by locale (uppercase before lowercase)', () => {
    expect(compareClaimOrder(makeTi({ dagId: 'Zeta' }), makeTi({ dagId: 'alpha' }))).toBeLessThan(0);
    expect(compareClaimOrder(makeTi({ taskId: 'a' }), makeTi({ taskId: 'a' }))).toBe(0);
  });

  it('selectClaims claims in the same order as compareClaimOrder sorts', () => {
    const candidates = ['b', 'B', 'a', 'aa', 'A', 'é', '_'].flatMap((taskId, i) => [
      candidate({ taskId, priorityWeight: i % 2 }, { dagMaxActiveTasks: 100 }),
      candidate({ taskId, priorityWeight: i % 2, run: 2, mapIndex: 3 }, { dagMaxActiveTasks: 100 }),
      candidate({ taskId, priorityWeight: i % 2, run: 2, mapIndex: 1 }, { dagMaxActiveTasks: 100 }),
    ]);

    const expected = candidates
      .map((c) => c.ti)
      .sort(compareClaimOrder)
      .map(label);

    expect(claimedLabels(candidates)).toEqual(expected);
  });

  it.each([
    ['a few, sorted whole', 3],
    ['many, ordered by rank groups', 40],
  ])('selectClaims walks %s in the order compareClaimOrder sorts', (_case, runs) => {
    // Prepare: weights, dates and ids mixed across runs (7 tasks each), listed in no particular order.
    const candidates = Array.from({ length: runs * 7 }, (_, i) =>
      candidate(
        {
          dagId: `dag_${(i * 7) % 5}`,
          taskId: `t${(i * 3) % 7}`,
          run: 1 + ((i * 11) % runs),
          priorityWeight: i % 3,
        },
        { dagMaxActiveTasks: 1000 },
      ),
    );
    const expected = candidates
      .map((c) => c.ti)
      .sort(compareClaimOrder)
      .map(label);

    // Act / Assess
    const roomy = makeState({ parallelism: { used: 0, limit: 1000 }, pools: { default_pool: [0, 1000] } });
    expect(claimedLabels(candidates, 1000, roomy)).toEqual(expected);
  });
});

describe('selectClaims', () => {
  it('gives each claim the holds of the limits it is subject to, with their limits', () => {
    const selection = selectClaims({
      candidates: [
        candidate(
          { dagId: 'etl', taskId: 'load', pool: 'db', poolSlots: 3 },
          { dagMaxActiveTasks: 4, maxActiveTisPerDag: 2, maxActiveTisPerDagrun: 1 },
        ),
        candidate({ dagId: 'etl', taskId: 'report', pool: 'db' }, { dagMaxActiveTasks: 4 }),
      ],
      state: makeState({ pools: { db: [0, 10] }, parallelism: { used: 0, limit: 7 } }),
      maxClaims: 10,
    });

    expect(selection.claims.map((c) => c.holds)).toEqual([
      [
        { counter: { kind: 'global' }, amount: 1, limit: 7 },
        { counter: { kind: 'pool', pool: 'db' }, amount: 3, limit: 10 },
        { counter: { kind: 'dag', dagId: 'etl' }, amount: 1, limit: 4 },
        { counter: { kind: 'task', dagId: 'etl', taskId: 'load' }, amount: 1, limit: 2 },
        { counter: { kind: 'taskRun', dagId: 'etl', runId: 'R1', taskId: 'load' }, amount: 1, limit: 1 },
      ],
      [
        { counter: { kind: 'global' }, amount: 1, limit: 7 },
        { counter: { kind: 'pool', pool: 'db' }, amount: 1, limit: 10 },
        { counter: { kind: 'dag', dagId: 'etl' }, amount: 1, limit: 4 },
      ],
    ]);
  });

  it('once parallelism is full, that candidate and every later one wait for parallelism', () => {
    const candidates = [
      candidate({ taskId: 'a', priorityWeight: 3 }),
      candidate({ taskId: 'b', priorityWeight: 2, pool: 'missing' }),
      candidate({ taskId: 'c', priorityWeight: 2 }),
      candidate({ taskId: 'd', priorityWeight: 1 }),
    ];
    const state = makeState({ parallelism: { used: 30, limit: 32 } });

    const selection = selectClaims({ candidates, state, maxClaims: 100 });

    expect(selection.claims.map((c) => label(c.ti))).toEqual(['dag/R1/a', 'dag/R1/c']);
    expect(selection.waits).toEqual([
      {
        key: { dagId: 'dag', runId: 'R1', taskId: 'b', mapIndex: -1 },
        reason: { kind: 'pool_missing', pool: 'missing' },
      },
      {
        key: { dagId: 'dag', runId: 'R1', taskId: 'd', mapIndex: -1 },
        reason: { kind: 'parallelism', used: 32, limit: 32 },
      },
    ]);
  });

  it('with parallelism already full claims nothing and says so for every candidate', () => {
    const candidates = [candidate({ taskId: 'a' }), candidate({ taskId: 'b', pool: 'missing' })];

    const selection = selectClaims({
      candidates,
      state: makeState({ parallelism: { used: 32, limit: 32 } }),
      maxClaims: 0,
    });

    expect(selection.claims).toEqual([]);
    expect(selection.waits.map((w) => w.reason)).toEqual([
      { kind: 'parallelism', used: 32, limit: 32 },
      { kind: 'parallelism', used: 32, limit: 32 },
    ]);
  });

  it('stops after maxClaims claims and leaves the rest without a wait reason', () => {
    const candidates = [
      candidate({ taskId: 'a', priorityWeight: 5 }),
      candidate({ taskId: 'b', priorityWeight: 4, pool: 'missing' }),
      candidate({ taskId: 'c', priorityWeight: 3 }),
      candidate({ taskId: 'd', priorityWeight: 2 }),
      candidate({ taskId: 'e', priorityWeight: 1, pool: 'missing' }),
    ];

    const selection = selectClaims({ candidates, state: makeState(), maxClaims: 2 });

    expect(selection.claims.map((c) => label(c.ti))).toEqual(['dag/R1/a', 'dag/R1/c']);
    expect(selection.waits.map((w) => label(w.key))).toEqual(['dag/R1/b']);
  });

  it('counts weighted pool slots claimed earlier in the same pass', () => {
    const candidates = [
      candidate({ taskId: 'big', poolSlots: 3, priorityWeight: 3 }),
      candidate({ taskId: 'mid', poolSlots: 2, priorityWeight: 2 }),
      candidate({ taskId: 'one', poolSlots: 1, priorityWeight: 1 }),
    ];

    const selection = selectClaims({
      candidates,
      state: makeState({ pools: { default_pool: [1, 5] } }),
      maxClaims: 10,
    });

    expect(selection.claims.map((c) => label(c.ti))).toEqual(['dag/R1/big', 'dag/R1/one']);
    expect(selection.waits.map((w) => w.reason)).toEqual([
      { kind: 'pool_full', pool: 'default_pool', used: 4, slots: 5, needs: 2 },
    ]);
  });

  it('applies maxActiveTasks per DAG across all its runs', () => {
    const limits = { dagMaxActiveTasks: 3 };
    const candidates = [1, 2, 3].flatMap((run) => [
      candidate({ dagId: 'd', taskId: 'x', run }, limits),
      candidate({ dagId: 'other', taskId: 'x', run }),
    ]);

    const selection = selectClaims({ candidates, state: makeState({ dagUsed: { d: 1 } }), maxClaims: 10 });

    expect(selection.claims.map((c) => label(c.ti))).toEqual([
      'd/R1/x',
      'other/R1/x',
      'd/R2/x',
      'other/R2/x',
      'other/R3/x',
    ]);
    expect(selection.waits).toEqual([
      {
        key: { dagId: 'd', runId: 'R3', taskId: 'x', mapIndex: -1 },
        reason: { kind: 'dag_max_active_tasks', used: 3, limit: 3 },
      },
    ]);
  });

  it('limits mapped instances of one task in one run with maxActiveTisPerDagrun', () => {
    const limits = { maxActiveTisPerDagrun: 2 };
    const candidates = [3, 0, 2, 1].flatMap((mapIndex) => [
      candidate({ taskId: 'm', mapIndex, run: 1 }, limits),
      candidate({ taskId: 'm', mapIndex, run: 2 }, limits),
    ]);

    const selection = selectClaims({
      candidates,
      state: makeState({ taskRunUsed: { 'dag/R2/m': 1 } }),
      maxClaims: 10,
    });

    expect(selection.claims.map((c) => label(c.ti))).toEqual(['dag/R1/m[0]', 'dag/R1/m[1]', 'dag/R2/m[0]']);
    expect(selection.waits.map((w) => [label(w.key), w.reason])).toEqual([
      ['dag/R1/m[2]', { kind: 'task_max_active_tis_per_dagrun', used: 2, limit: 2 }],
      ['dag/R1/m[3]', { kind: 'task_max_active_tis_per_dagrun', used: 2, limit: 2 }],
      ['dag/R2/m[1]', { kind: 'task_max_active_tis_per_dagrun', used: 2, limit: 2 }],
      ['dag/R2/m[2]', { kind: 'task_max_active_tis_per_dagrun', used: 2, limit: 2 }],
      ['dag/R2/m[3]', { kind: 'task_max_active_tis_per_dagrun', used: 2, limit: 2 }],
    ]);
  });

  it('holds back an executor without free capacity while the other executor keeps claiming', () => {
    const candidates = [
      candidate({ taskId: 'l1', executor: 'lambda', priorityWeight: 3 }),
      candidate({ taskId: 'l2', executor: 'lambda', priorityWeight: 2 }),
      candidate({ taskId: 'f1', executor: 'fargate', priorityWeight: 1 }),
    ];

    const selection = selectClaims({
      candidates,
      state: makeState({ executorFree: { lambda: 1, fargate: 5 } }),
      maxClaims: 10,
    });

    expect(selection.claims.map((c) => label(c.ti))).toEqual(['dag/R1/l1', 'dag/R1/f1']);
    expect(selection.waits.map((w) => w.reason)).toEqual([{ kind: 'executor_capacity', executor: 'lambda' }]);
  });

  it('checks the limits in order: pool, DAG, task, task in run, executor', () => {
    const state = makeState({
      pools: { full: [2, 2], open: [0, 2] },
      dagUsed: { busy: 1 },
      taskUsed: { 'dag/t': 1 },
      taskRunUsed: { 'dag/R1/t': 1 },
      executorFree: { lambda: 0, fargate: null },
    });
    const all = { dagMaxActiveTasks: 1, maxActiveTisPerDag: 1, maxActiveTisPerDagrun: 1 };
    const cases = [
      candidate({ dagId: 'busy', taskId: 't', pool: 'full', poolSlots: 3 }, all),
      candidate({ dagId: 'busy', taskId: 't', pool: 'full', mapIndex: 1 }, all),
      candidate({ dagId: 'busy', taskId: 't', pool: 'open', mapIndex: 2 }, all),
      candidate({ taskId: 't', pool: 'open', mapIndex: 3 }, all),
      candidate({ taskId: 't', pool: 'open', mapIndex: 4 }, { maxActiveTisPerDagrun: 1 }),
      candidate({ taskId: 't', pool: 'open', mapIndex: 5 }),
    ];

    const kinds = selectClaims({ candidates: cases, state, maxClaims: 10 }).waits.map((w) => w.reason.kind);

    expect(kinds).toEqual([
      'pool_too_small',
      'pool_full',
      'dag_max_active_tasks',
      'task_max_active_tis_per_dag',
      'task_max_active_tis_per_dagrun',
      'executor_capacity',
    ]);
  });

  it('leaves the input candidates and state maps untouched', () => {
    const candidates = [
      candidate({ taskId: 'b' }, { maxActiveTisPerDag: 3, maxActiveTisPerDagrun: 3 }),
      candidate({ taskId: 'a' }),
    ];
    const state = makeState({ pools: { default_pool: [1, 128] }, dagUsed: { dag: 1 } });
    const before = structuredClone({ candidates, state });

    const selection = selectClaims({ candidates, state, maxClaims: 10 });

    expect(selection.claims).toHaveLength(2);
    expect({ candidates, state }).toEqual(before);
  });

  it('returns nothing for no candidates', () => {
    expect(selectClaims({ candidates: [], state: makeState(), maxClaims: 10 })).toEqual({
      claims: [],
      waits: [],
    });
  });
});
