/**
 * SEMANTICS.md §13 scenarios that concern claiming, translated into candidates and counters.
 * "Running" task instances are expressed as counter `used` values; `Q(n)` is `maxClaims: n`.
 */
import { describe, expect, it } from 'vitest';
import { type ClaimCandidate, type ClaimState, selectClaims } from '#core/claim.ts';
import type { WaitReason } from '#core/model.ts';
import { candidate, label, makeState } from './claim-fixtures.ts';

function pass(candidates: ClaimCandidate[], state: ClaimState, maxClaims: number) {
  const selection = selectClaims({ candidates, state, maxClaims });
  return {
    claimed: selection.claims.map((c) => label(c.ti)),
    waits: Object.fromEntries(selection.waits.map((w) => [label(w.key), w.reason])) as Record<
      string,
      WaitReason
    >,
  };
}

describe('selectClaims — SEMANTICS.md §13 scenarios', () => {
  it('1: a pool limit applies across runs while other pools keep filling', () => {
    // Prepare
    const candidates = [1, 2].flatMap((run) => [
      candidate({ dagId: 'd', taskId: 'dummy', run, pool: 'a', priorityWeight: 2 }),
      candidate({ dagId: 'd', taskId: 'dummydummy', run, pool: 'b', priorityWeight: 1 }),
    ]);
    const state = makeState({ pools: { a: [0, 1], b: [0, 100] } });

    // Act
    const result = pass(candidates, state, 32);

    // Assess
    expect(result.claimed).toEqual(['d/R1/dummy', 'd/R1/dummydummy', 'd/R2/dummydummy']);
    expect(result.waits).toEqual({
      'd/R2/dummy': { kind: 'pool_full', pool: 'a', used: 1, slots: 1, needs: 1 },
    });
  });

  it('3: with equal weights the earlier logical date goes first, across DAGs', () => {
    const hour = 3_600_000;
    const a = candidate({ dagId: 'A', taskId: 't' });
    const b = candidate({ dagId: 'B', taskId: 't' });
    a.ti.logicalDate += hour;

    const result = pass([a, b], makeState(), 1);

    expect(result.claimed).toEqual(['B/R1/t']);
    expect(result.waits).toEqual({});
  });

  it('4: the higher priority weight goes first', () => {
    const result = pass(
      [candidate({ dagId: 'A', priorityWeight: 1 }), candidate({ dagId: 'B', priorityWeight: 4 })],
      makeState(),
      1,
    );

    expect(result.claimed).toEqual(['B/R1/task']);
  });

  it('5: priority weight beats an earlier logical date', () => {
    const a = candidate({ dagId: 'A', priorityWeight: 1 });
    const b = candidate({ dagId: 'B', priorityWeight: 4 });
    b.ti.logicalDate += 3_600_000;

    const result = pass([a, b], makeState(), 1);

    expect(result.claimed).toEqual(['B/R1/task']);
  });

  it('6: priority order holds across pools and maxActiveTasks stops the DAG at 2', () => {
    const limits = { dagMaxActiveTasks: 2 };
    const candidates = [
      candidate({ taskId: 't1', priorityWeight: 1, pool: 'pool1' }, limits),
      candidate({ taskId: 't2', priorityWeight: 2, pool: 'pool2' }, limits),
      candidate({ taskId: 't3', priorityWeight: 3, pool: 'pool1' }, limits),
    ];
    const state = makeState({ pools: { pool1: [0, 32], pool2: [0, 32] } });

    const result = pass(candidates, state, 32);

    expect(result.claimed).toEqual(['dag/R1/t3', 'dag/R1/t2']);
    expect(result.waits).toEqual({ 'dag/R1/t1': { kind: 'dag_max_active_tasks', used: 2, limit: 2 } });
  });

  it('7: a default pool of 1 slot takes one task instance, and none once one is running', () => {
    const candidates = [
      candidate({ taskId: 'dummy1', run: 1, pool: 'default_pool' }),
      candidate({ taskId: 'dummy2', run: 2, pool: 'default_pool' }),
    ];

    const empty = pass(candidates, makeState({ pools: { default_pool: [0, 1] } }), 32);
    // dummy1@R1 is running: it holds the pool slot and one of the DAG's active tasks.
    const busy = pass(
      [candidates[1]!],
      makeState({
        pools: { default_pool: [1, 1] },
        dagUsed: { dag: 1 },
        parallelism: { used: 1, limit: 32 },
      }),
      32,
    );

    expect(empty.claimed).toEqual(['dag/R1/dummy1']);
    expect(empty.waits).toEqual({
      'dag/R2/dummy2': { kind: 'pool_full', pool: 'default_pool', used: 1, slots: 1, needs: 1 },
    });
    expect(busy.claimed).toEqual([]);
    expect(busy.waits).toEqual({
      'dag/R2/dummy2': { kind: 'pool_full', pool: 'default_pool', used: 1, slots: 1, needs: 1 },
    });
  });

  it('8: a task in a pool that does not exist stays scheduled and says so', () => {
    const result = pass([candidate({ pool: 'this_pool_doesnt_exist' })], makeState(), 32);

    expect(result.claimed).toEqual([]);
    expect(result.waits).toEqual({
      'dag/R1/task': { kind: 'pool_missing', pool: 'this_pool_doesnt_exist' },
    });
  });

  it('9: a pool with -1 slots is unlimited, whatever it already holds', () => {
    const selection = selectClaims({
      candidates: [candidate({ pool: 'infinite_pool', poolSlots: 50 })],
      state: makeState({ pools: { infinite_pool: [1_000, -1] } }),
      maxClaims: 32,
    });

    expect(selection.claims.map((c) => label(c.ti))).toEqual(['dag/R1/task']);
    expect(selection.claims[0]!.holds).toContainEqual({
      counter: { kind: 'pool', pool: 'infinite_pool' },
      amount: 50,
      limit: -1,
    });
  });

  it('10: poolSlots larger than the pool never runs but does not stop a task that fits', () => {
    const candidates = [
      candidate({ taskId: 'cannot_run', pool: 'tiny', poolSlots: 4, priorityWeight: 2 }),
      candidate({ taskId: 'can_run', pool: 'tiny', poolSlots: 1 }),
    ];

    const result = pass(candidates, makeState({ pools: { tiny: [0, 2] } }), 32);

    expect(result.claimed).toEqual(['dag/R1/can_run']);
    expect(result.waits).toEqual({
      'dag/R1/cannot_run': { kind: 'pool_too_small', pool: 'tiny', needs: 4, slots: 2 },
    });
  });

  describe('15: maxActiveTisPerDag = 2 over runs R1..R3', () => {
    const task1 = (run: number) => candidate({ taskId: 'task1', run }, { maxActiveTisPerDag: 2 });
    const task2 = (run: number) => candidate({ taskId: 'task2', run });
    /** Counters with these task instances running. */
    const running = (task1Runs: number, task2Runs: number) =>
      makeState({
        pools: { default_pool: [task1Runs + task2Runs, 128] },
        parallelism: { used: task1Runs + task2Runs, limit: 32 },
        dagUsed: { dag: task1Runs + task2Runs },
        taskUsed: { 'dag/task1': task1Runs },
      });

    it.each([
      {
        step: '(a) task1@R1 and task2@R1 scheduled',
        candidates: [task1(1), task2(1)],
        state: running(0, 0),
        claimed: ['dag/R1/task1', 'dag/R1/task2'],
        waits: {},
      },
      {
        step: '(b) both running, task1@R2 scheduled',
        candidates: [task1(2)],
        state: running(1, 1),
        claimed: ['dag/R2/task1'],
        waits: {},
      },
      {
        step: '(c) task1@R1 and task1@R2 running, task1@R3 scheduled',
        candidates: [task1(3)],
        state: running(2, 1),
        claimed: [],
        waits: { 'dag/R3/task1': { kind: 'task_max_active_tis_per_dag', used: 2, limit: 2 } },
      },
      {
        step: '(d) task1@R1..R3 scheduled, task2@R1 running',
        candidates: [task1(3), task1(1), task1(2)],
        state: running(0, 1),
        claimed: ['dag/R1/task1', 'dag/R2/task1'],
        waits: { 'dag/R3/task1': { kind: 'task_max_active_tis_per_dag', used: 2, limit: 2 } },
      },
      {
        step: '(e) task1@R1 running, task1@R2 and R3 scheduled',
        candidates: [task1(2), task1(3)],
        state: running(1, 0),
        claimed: ['dag/R2/task1'],
        waits: { 'dag/R3/task1': { kind: 'task_max_active_tis_per_dag', used: 2, limit: 2 } },
      },
    ])('$step', ({ candidates, state, claimed, waits }) => {
      const result = pass(candidates, state, 32);

      expect(result.claimed).toEqual(claimed);
      expect(result.waits).toEqual(waits);
    });
  });

  it('16: a lower-priority task fills the pool when the top one cannot fit', () => {
    const candidates = [
      candidate({ taskId: 'op1', priorityWeight: 2, poolSlots: 2 }),
      candidate({ taskId: 'op2', priorityWeight: 1, poolSlots: 1 }),
    ];

    const result = pass(candidates, makeState({ pools: { default_pool: [0, 1] } }), 32);

    expect(result.claimed).toEqual(['dag/R1/op2']);
    expect(result.waits).toEqual({
      'dag/R1/op1': { kind: 'pool_too_small', pool: 'default_pool', needs: 2, slots: 1 },
    });
  });
});
