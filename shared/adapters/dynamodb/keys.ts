/**
 * Item keys and index keys of the single table (docs/state-store.md). Sort keys that carry numbers
 * are zero-padded so string order is numeric order.
 */
import { type CounterKey, counterKeyString, type TaskInstance, type TiKey } from '#core/model.ts';

/** Zero-padded non-negative integer (negative values clamp to 0: callers offset signed ones). */
const pad = (n: number, width = 15) => String(Math.max(0, Math.floor(n))).padStart(width, '0');

/** Priority weights are 32-bit (Airflow clamps them too); inverted so higher sorts first. */
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
/** Logical dates are offset by 10^14 ms (about 3,170 years) so dates before 1970 still sort in order. */
const DATE_OFFSET = 1e14;

const keys = {
  dag: (dagId: string) => ({ pk: `DAG#${dagId}`, sk: 'DAG' }),
  version: (dagId: string, hash: string) => ({ pk: `DAG#${dagId}`, sk: `VER#${hash}` }),
  versionPart: (dagId: string, hash: string, part: number) => ({
    pk: `DAG#${dagId}`,
    sk: `VER#${hash}#PART#${pad(part, 4)}`,
  }),
  run: (dagId: string, runId: string) => ({ pk: `RUN#${dagId}#${runId}`, sk: 'RUN' }),
  ti: (key: TiKey) => ({ pk: `RUN#${key.dagId}#${key.runId}`, sk: `TI#${key.taskId}#${key.mapIndex}` }),
  /** Block `n` of a run's instances not written yet (state none, packed: pending.ts). */
  tiBlock: (dagId: string, runId: string, n: number) => ({
    pk: `RUN#${dagId}#${runId}`,
    sk: `TIS#${pad(n, 4)}`,
  }),
  counter: (key: CounterKey) => ({ pk: `CTR#${counterKeyString(key)}`, sk: 'CTR' }),
  /** Shard `i` of a counter (shards.ts): shard 0 is the counter's own item, so one shard is the plain layout. */
  counterShard: (key: CounterKey, shard: number) => ({
    pk: shard === 0 ? `CTR#${counterKeyString(key)}` : `CTR#${counterKeyString(key)}#${shard}`,
    sk: 'CTR',
  }),
  pool: (name: string) => ({ pk: `POOL#${name}`, sk: 'POOL' }),
  backfill: (id: string) => ({ pk: `BACKFILL#${id}`, sk: 'BACKFILL' }),
  importError: (fileloc: string) => ({ pk: `IMPORTERR#${fileloc}`, sk: 'ERR' }),
};

/** Partition of the `claim` index holding a pool's claimable instances. */
const claimPartition = (pool: string) => `POOL#${pool}`;
/** Partition of the `claim` index holding a pool's instances parked on one counter. */
const parkPartition = (pool: string, counter: CounterKey) => `PARKED#${pool}#${counterKeyString(counter)}`;

/**
 * Claim order as one sortable string: priority desc (inverted, so negative weights work), logical
 * date asc, then dagId, runId, taskId, mapIndex asc. Ids are `[A-Za-z0-9_.-]`, all above `#`, so a
 * shorter id sorts before its extensions exactly as JavaScript compares them.
 */
function claimSortKey(ti: Pick<TaskInstance, keyof TiKey | 'priorityWeight' | 'logicalDate'>): string {
  const priority = Math.max(INT32_MIN, Math.min(INT32_MAX, Math.trunc(ti.priorityWeight)));
  return [
    pad(INT32_MAX - priority, 10),
    pad(ti.logicalDate + DATE_OFFSET),
    ti.dagId,
    ti.runId,
    ti.taskId,
    pad(ti.mapIndex + 1, 10),
  ].join('#');
}

function tiId(key: TiKey): string {
  return `${key.dagId}#${key.runId}#${key.taskId}#${key.mapIndex}`;
}

/** The index attributes a task instance has in its state (null ones are absent: sparse indexes). */
function tiIndexes(ti: TaskInstance): Record<string, string | null> {
  const scheduled = ti.state === 'scheduled';
  const due =
    ti.state === 'up_for_retry' ? ti.nextRetryAt : ti.state === 'up_for_reschedule' ? ti.rescheduleAt : null;
  return {
    claimPk: scheduled ? claimPartition(ti.pool) : null,
    claimSk: scheduled ? claimSortKey(ti) : null,
    // Holders are not indexed (holders.ts): null REMOVEs the entry an item written before still has.
    holdPk: null,
    holdSk: null,
    waitPk: due !== null ? 'WAIT' : null,
    waitSk: due !== null ? `${pad(due)}#${tiId(ti)}` : null,
  };
}

export { claimPartition, claimSortKey, keys, pad, parkPartition, tiId, tiIndexes };
