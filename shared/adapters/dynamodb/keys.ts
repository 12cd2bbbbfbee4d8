/**
 * Item keys and index keys of the single table (docs/state-store.md). Records are stored whole as
 * JSON in `data`; the attributes conditions and indexes need are stored beside it.
 */
import { type CounterKey, counterKeyString, type TaskInstance, type TiKey } from '#core/model.ts';

/** Schema version of every item this code writes. */
const ITEM_VERSION = 1;

const pad = (n: number, width = 15) => String(Math.max(0, Math.floor(n))).padStart(width, '0');

const keys = {
  dag: (dagId: string) => ({ pk: `DAG#${dagId}`, sk: 'DAG' }),
  version: (dagId: string, hash: string) => ({ pk: `DAG#${dagId}`, sk: `VER#${hash}` }),
  run: (dagId: string, runId: string) => ({ pk: `RUN#${dagId}#${runId}`, sk: 'RUN' }),
  ti: (key: TiKey) => ({ pk: `RUN#${key.dagId}#${key.runId}`, sk: `TI#${key.taskId}#${key.mapIndex}` }),
  counter: (key: CounterKey) => ({ pk: `CTR#${counterKeyString(key)}`, sk: 'CTR' }),
  pool: (name: string) => ({ pk: `POOL#${name}`, sk: 'POOL' }),
  backfill: (id: string) => ({ pk: `BACKFILL#${id}`, sk: 'BACKFILL' }),
  importError: (fileloc: string) => ({ pk: `IMPORTERR#${fileloc}`, sk: 'ERR' }),
};

/** Claim order as one sortable string: priority desc, logical date asc, then the ids asc. */
function claimSortKey(ti: TaskInstance): string {
  const priority = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, ti.priorityWeight));
  return [
    pad(2 ** 31 - 1 - priority, 10),
    pad(ti.logicalDate),
    ti.dagId,
    ti.runId,
    ti.taskId,
    pad(ti.mapIndex + 1, 10),
  ].join('#');
}

function tiId(key: TiKey): string {
  return `${key.dagId}#${key.runId}#${key.taskId}#${key.mapIndex}`;
}

/** The index attributes a task instance has in its state (absent ones are removed). */
function tiIndexes(ti: TaskInstance): Record<string, string | null> {
  const scheduled = ti.state === 'scheduled';
  const holding = ti.state === 'queued' || ti.state === 'running';
  const due =
    ti.state === 'up_for_retry' ? ti.nextRetryAt : ti.state === 'up_for_reschedule' ? ti.rescheduleAt : null;
  return {
    claimPk: scheduled ? `POOL#${ti.pool}` : null,
    claimSk: scheduled ? claimSortKey(ti) : null,
    holdPk: holding ? 'HOLD' : null,
    holdSk: holding ? tiId(ti) : null,
    waitPk: due !== null ? 'WAIT' : null,
    waitSk: due !== null ? `${pad(due)}#${tiId(ti)}` : null,
  };
}

export { claimSortKey, ITEM_VERSION, keys, pad, tiIndexes };
