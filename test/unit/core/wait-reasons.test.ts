import { describe, expect, it } from 'vitest';
import type { WaitReason } from '#core/model.ts';
import { describeWaitReason } from '#core/wait-reasons.ts';

const AT = Date.parse('2026-01-01T10:05:00Z');
const MINUTE = 60_000;

describe('describeWaitReason', () => {
  it.each<{ reason: WaitReason; text: string }>([
    {
      reason: { kind: 'upstream_pending', pending: ['extract', 'transform'] },
      text: 'waiting for upstream tasks: extract, transform',
    },
    {
      reason: { kind: 'upstream_pending', pending: ['extract'] },
      text: 'waiting for upstream task: extract',
    },
    {
      reason: { kind: 'upstream_pending', pending: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] },
      text: 'waiting for upstream tasks: a, b, c, d, e and 2 more',
    },
    { reason: { kind: 'retry_at', at: AT }, text: 'retry at 2026-01-01T10:05:00Z' },
    { reason: { kind: 'reschedule_at', at: AT }, text: 'sensor pokes again at 2026-01-01T10:05:00Z' },
    { reason: { kind: 'run_not_running', runState: 'queued' }, text: 'DAG run is queued, not running' },
    {
      reason: { kind: 'run_limit', running: 2, limit: 2 },
      text: 'DAG is at maxActiveRuns (2/2 runs running)',
    },
    {
      reason: { kind: 'pool_full', pool: 'etl', used: 128, slots: 128, needs: 1 },
      text: 'pool etl is full (128/128 slots used; needs 1)',
    },
    {
      reason: { kind: 'pool_missing', pool: 'gpu' },
      text: 'pool gpu does not exist — create it with `updraft pools set gpu <slots>`',
    },
    {
      reason: { kind: 'pool_too_small', pool: 'tiny', needs: 4, slots: 2 },
      text: 'needs 4 slots but pool tiny has only 2',
    },
    {
      reason: { kind: 'pool_too_small', pool: 'zero', needs: 1, slots: 0 },
      text: 'needs 1 slot but pool zero has only 0',
    },
    {
      reason: { kind: 'dag_max_active_tasks', used: 16, limit: 16 },
      text: 'DAG is at maxActiveTasks (16/16)',
    },
    {
      reason: { kind: 'task_max_active_tis_per_dag', used: 2, limit: 2 },
      text: 'task is at maxActiveTisPerDag (2/2)',
    },
    {
      reason: { kind: 'task_max_active_tis_per_dagrun', used: 4, limit: 4 },
      text: 'task is at maxActiveTisPerDagrun in this run (4/4)',
    },
    {
      reason: { kind: 'parallelism', used: 32, limit: 32 },
      text: 'parallelism is reached (32/32 task instances queued or running)',
    },
    {
      reason: { kind: 'executor_capacity', executor: 'fargate' },
      text: 'every fargate worker slot is busy (worker concurrency reached)',
    },
    { reason: { kind: 'dag_paused' }, text: 'DAG is paused' },
  ])('describes $reason.kind as "$text"', ({ reason, text }) => {
    expect(describeWaitReason(reason)).toBe(text);
  });

  it('says how far away a retry is when given the current time', () => {
    expect(describeWaitReason({ kind: 'retry_at', at: AT }, AT - 4 * MINUTE)).toBe(
      'retry at 2026-01-01T10:05:00Z (in 4m)',
    );
    expect(describeWaitReason({ kind: 'reschedule_at', at: AT }, AT - 90_000)).toBe(
      'sensor pokes again at 2026-01-01T10:05:00Z (in 1m30s)',
    );
  });

  it('says a retry whose time has come is due now rather than a negative delay', () => {
    expect(describeWaitReason({ kind: 'retry_at', at: AT }, AT)).toBe(
      'retry at 2026-01-01T10:05:00Z (due now)',
    );
    expect(describeWaitReason({ kind: 'retry_at', at: AT }, AT + MINUTE)).toBe(
      'retry at 2026-01-01T10:05:00Z (due now)',
    );
  });

  it('shows times to the second (retry times carry the milliseconds of the failed try)', () => {
    expect(describeWaitReason({ kind: 'retry_at', at: AT + 250 })).toBe('retry at 2026-01-01T10:05:00Z');
  });

  it('rejects an unknown reason kind instead of returning nothing', () => {
    expect(() => describeWaitReason({ kind: 'mystery' } as unknown as WaitReason)).toThrow(/mystery/);
  });
});

describe('sameWaitReason', () => {
  it('compares reasons by what they say', async () => {
    const { sameWaitReason } = await import('#core/wait-reasons.ts');
    expect(
      sameWaitReason(
        { kind: 'upstream_pending', pending: ['a', 'b'] },
        { kind: 'upstream_pending', pending: ['a', 'b'] },
      ),
    ).toBe(true);
    expect(
      sameWaitReason(
        { kind: 'upstream_pending', pending: ['a'] },
        { kind: 'upstream_pending', pending: ['a', 'b'] },
      ),
    ).toBe(false);
    expect(
      sameWaitReason(
        { kind: 'pool_full', pool: 'p', used: 1, slots: 2, needs: 2 },
        { kind: 'pool_full', pool: 'p', used: 2, slots: 2, needs: 2 },
      ),
    ).toBe(false);
    expect(sameWaitReason(null, { kind: 'dag_paused' })).toBe(false);
    expect(sameWaitReason(null, null)).toBe(true);
  });
});

describe('sameWaitCause', () => {
  it('ignores the live count but not the cause', async () => {
    const { sameWaitCause } = await import('#core/wait-reasons.ts');
    const full = (used: number, slots = 2): WaitReason => ({
      kind: 'pool_full',
      pool: 'p',
      used,
      slots,
      needs: 1,
    });
    expect(sameWaitCause(full(1), full(2))).toBe(true);
    expect(sameWaitCause(full(2), full(2, 3))).toBe(false);
    expect(
      sameWaitCause({ kind: 'run_limit', running: 1, limit: 2 }, { kind: 'run_limit', running: 2, limit: 2 }),
    ).toBe(true);
    expect(sameWaitCause(full(1), { kind: 'parallelism', used: 1, limit: 2 })).toBe(false);
    expect(sameWaitCause(null, full(1))).toBe(false);
    expect(sameWaitCause(null, null)).toBe(true);
  });
});

describe('liveCounter and withLiveCount', () => {
  const key = { dagId: 'd', runId: 'r', taskId: 't', mapIndex: -1 };
  it.each<{ reason: WaitReason; counter: unknown }>([
    {
      reason: { kind: 'pool_full', pool: 'p', used: 1, slots: 2, needs: 1 },
      counter: { kind: 'pool', pool: 'p' },
    },
    { reason: { kind: 'dag_max_active_tasks', used: 1, limit: 2 }, counter: { kind: 'dag', dagId: 'd' } },
    {
      reason: { kind: 'task_max_active_tis_per_dag', used: 1, limit: 2 },
      counter: { kind: 'task', dagId: 'd', taskId: 't' },
    },
    {
      reason: { kind: 'task_max_active_tis_per_dagrun', used: 1, limit: 2 },
      counter: { kind: 'taskRun', dagId: 'd', runId: 'r', taskId: 't' },
    },
    { reason: { kind: 'parallelism', used: 1, limit: 2 }, counter: { kind: 'global' } },
    { reason: { kind: 'dag_paused' }, counter: null },
    { reason: { kind: 'pool_too_small', pool: 'p', needs: 3, slots: 2 }, counter: null },
  ])('reads the live count of $reason.kind from its counter', async ({ reason, counter }) => {
    const { liveCounter, withLiveCount } = await import('#core/wait-reasons.ts');
    expect(liveCounter(key, reason)).toEqual(counter);
    const live = withLiveCount(reason, 7);
    if (counter) expect(live).toEqual({ ...reason, used: 7 });
    else expect(live).toBe(reason);
  });
});
