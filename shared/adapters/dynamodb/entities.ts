/**
 * Records ↔ items, one pair of functions per entity (docs/state-store.md, "Items"). Every item is
 * `itemOf(key, type, record, attributes)`; the attributes are what keys, sparse indexes and
 * conditions need, and are written in the same put as the record, so they never disagree with it.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { backfillWithDefaults } from '#core/backfill.ts';
import type { DagManifest } from '#core/manifest.ts';
import type {
  Backfill,
  DagRecord,
  DagRun,
  Hold,
  ImportError,
  Pool,
  TaskInstance,
  WaitReason,
} from '#core/model.ts';
import { isRunFinished, type TiState } from '#core/states.ts';
import type { TryRecord } from '#core/try-history.ts';
import { keys, pad, tiIndexes } from './keys.ts';
import { checkItem, type Item, itemOf, json, N, num, recordOf, S, str } from './marshal.ts';

/** Largest `data` kept in one item: DynamoDB's item limit is 400 KB, keys and attributes need the rest. */
const MAX_DATA_BYTES = 350 * 1024;

function dagItem(dag: DagRecord): Item {
  const due = dag.active && !dag.paused && dag.nextRun;
  return itemOf(keys.dag(dag.dagId), 'dag', dag, {
    updatedAt: dag.updatedAt,
    dagPk: 'DAGS',
    dagSk: dag.dagId,
    activePk: due ? 'DUE' : null,
    activeSk: due && dag.nextRun ? `${pad(dag.nextRun.runAfter)}#${dag.dagId}` : null,
  });
}

/**
 * A run item. While a large run's instances are being written it is `incomplete`: marked
 * `tisComplete = 0` and left out of the unfinished-runs index, so no scheduler acts on half a run.
 */
function runItem(run: DagRun, incomplete = false, keepListed = false): Item {
  const open = (!isRunFinished(run.state) || keepListed) && !incomplete;
  return itemOf(keys.run(run.dagId, run.runId), 'run', run, {
    state: run.state,
    tisComplete: incomplete ? 0 : null,
    dagPk: `DAG#${run.dagId}#RUNS`,
    dagSk: `${pad(run.logicalDate)}#${pad(run.createdAt)}#${run.runId}`,
    ...runActiveKeys(run),
    ...(open ? {} : { activePk: null, activeSk: null }),
  });
}

/** Where an unfinished run is listed in the `active` index. */
function runActiveKeys(run: DagRun) {
  return { activePk: 'RUNS', activeSk: `${run.dagId}#${pad(run.logicalDate)}#${run.runId}` };
}

function runOf(item: Item): DagRun {
  return recordOf<DagRun>(item, 'run');
}

function isIncompleteRun(item: Item): boolean {
  return item.tisComplete?.N === '0';
}

/**
 * The fields of a task instance kept as attributes instead of inside `data`, so that a claim, a
 * start, a heartbeat or a wait reason is one UpdateItem without reading the item first.
 */
type TiHot = Pick<
  TaskInstance,
  'state' | 'tryNumber' | 'queuedAt' | 'startedAt' | 'heartbeatAt' | 'workerId' | 'holds' | 'waitReason'
>;

/** Cold fields left out of `data` while null (most are, most of the time), and read back as null. */
const NULL_COLD = [
  'scheduledAt',
  'endedAt',
  'nextRetryAt',
  'rescheduleAt',
  'firstPokeAt',
  'error',
  'result',
] as const;

function tiItem(ti: TaskInstance): Item {
  const { state, tryNumber, queuedAt, startedAt, heartbeatAt, workerId, holds, waitReason, ...all } = ti;
  const cold: Record<string, unknown> = { ...all };
  for (const field of NULL_COLD) if (cold[field] === null || cold[field] === undefined) delete cold[field];
  return itemOf(keys.ti(ti), 'ti', cold, {
    state,
    tryNumber,
    queuedAt,
    startedAt,
    heartbeatAt,
    workerId,
    holds: holds.length > 0 ? JSON.stringify(holds) : null,
    waitReason: waitReason ? JSON.stringify(waitReason) : null,
    ...tiIndexes(ti),
  });
}

function tiOf(item: Item): TaskInstance {
  const stored = recordOf<Omit<TaskInstance, keyof TiHot>>(item, 'ti');
  const cold = { ...Object.fromEntries(NULL_COLD.map((f) => [f, null])), ...stored };
  const hot: TiHot = {
    state: str(item.state) as TiState,
    tryNumber: num(item.tryNumber) ?? 0,
    queuedAt: num(item.queuedAt),
    startedAt: num(item.startedAt),
    heartbeatAt: num(item.heartbeatAt),
    workerId: str(item.workerId),
    holds: json<Hold[]>(item.holds, []),
    waitReason: json<WaitReason | null>(item.waitReason, null),
  };
  return { ...cold, ...hot };
}

/**
 * The try history (core/try-history.ts) as the `tries` attribute: one compact array per try,
 * `[tryNumber, state, startedAt, endedAt, workerId, error]`, so ten tries fit beside the rest of
 * the instance in well under 1 KB when their errors are short.
 */
type StoredTry = [number, TiState, number | null, number | null, string | null, string | null];

function triesAttribute(tries: readonly TryRecord[]): Item {
  if (tries.length === 0) return {};
  const stored = tries.map(
    (t): StoredTry => [t.tryNumber, t.state, t.startedAt, t.endedAt, t.workerId, t.error],
  );
  return { tries: S(JSON.stringify(stored)) };
}

function triesOf(item: Item): TryRecord[] {
  return json<StoredTry[]>(item.tries, []).map(([tryNumber, state, startedAt, endedAt, workerId, error]) => ({
    tryNumber,
    state,
    startedAt,
    endedAt,
    workerId,
    error,
  }));
}

/**
 * A manifest version: JSON when it fits, gzip when that fits, else gzip split into part items
 * (`VER#<hash>#PART#nnnn`) behind a head item that says how many parts to read.
 */
function versionItems(manifest: DagManifest): { head: Item; parts: Item[] } {
  const key = keys.version(manifest.dagId, manifest.hash);
  const text = JSON.stringify(manifest);
  if (Buffer.byteLength(text) <= MAX_DATA_BYTES) return { head: itemOf(key, 'version', manifest), parts: [] };
  const zipped = gzipSync(text);
  if (zipped.length <= MAX_DATA_BYTES) {
    return {
      head: { ...itemOf(key, 'version', null), data: { B: zipped }, encoding: { S: 'gzip' } },
      parts: [],
    };
  }
  const parts: Item[] = [];
  for (let offset = 0, i = 0; offset < zipped.length; offset += MAX_DATA_BYTES, i += 1) {
    parts.push({
      ...itemOf(keys.versionPart(manifest.dagId, manifest.hash, i), 'versionPart', null),
      data: { B: zipped.subarray(offset, offset + MAX_DATA_BYTES) },
    });
  }
  return {
    head: { ...itemOf(key, 'version', null), parts: N(parts.length), encoding: { S: 'gzip' } },
    parts,
  };
}

/** The manifest from its head item and, when split, its parts in order. */
function versionOf(head: Item, parts: Item[] = []): DagManifest {
  if (head.parts === undefined && head.data?.B === undefined) return recordOf<DagManifest>(head, 'version');
  checkItem(head, 'version');
  for (const part of parts) checkItem(part, 'versionPart');
  const chunks = head.data?.B ? [head.data.B] : parts.map((p) => p.data?.B ?? new Uint8Array());
  return JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as DagManifest;
}

function poolItem(pool: Pool): Item {
  return itemOf(keys.pool(pool.name), 'pool', pool, { activePk: 'POOLS', activeSk: pool.name });
}

/** A backfill, with its revision beside the record (for conditional updates); unfinished ones are listed in `active`. */
function backfillItem(backfill: Backfill): Item {
  const open = backfill.completedAt === null && backfill.cancelledAt === null;
  return itemOf(keys.backfill(backfill.backfillId), 'backfill', backfill, {
    revision: backfill.revision,
    dagPk: `DAG#${backfill.dagId}#BACKFILLS`,
    dagSk: `${pad(backfill.createdAt)}#${backfill.backfillId}`,
    activePk: open ? 'BACKFILLS' : null,
    activeSk: open ? backfill.backfillId : null,
  });
}

function backfillOf(item: Item): Backfill {
  return backfillWithDefaults(recordOf<Backfill>(item, 'backfill'));
}

type StoredImportError = ImportError & { dagId: string | null };

function importErrorItem(dagId: string | null, error: ImportError): Item {
  return itemOf(
    keys.importError(error.fileloc),
    'importError',
    { ...error, dagId } satisfies StoredImportError,
    {
      activePk: 'IMPORTERRS',
      activeSk: error.fileloc,
    },
  );
}

function importErrorOf(item: Item): StoredImportError {
  return recordOf<StoredImportError>(item, 'importError');
}

export {
  backfillItem,
  backfillOf,
  dagItem,
  importErrorItem,
  importErrorOf,
  isIncompleteRun,
  MAX_DATA_BYTES,
  poolItem,
  runActiveKeys,
  runItem,
  runOf,
  tiItem,
  tiOf,
  triesAttribute,
  triesOf,
  versionItems,
  versionOf,
};
