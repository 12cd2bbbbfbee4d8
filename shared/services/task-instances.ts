/**
 * Task instances as the API and the console see them: the instances of a run in the DAG's order,
 * one instance with its tries and why it waits, and the log of each try (from the LogStore).
 *
 * The store keeps the current try of an instance and a bounded history of its ended tries (the
 * newest MAX_TRY_HISTORY, core/try-history.ts); a try older than that is known by its number and
 * its log only.
 */
import { NotFoundError } from '#core/errors.ts';
import type { TaskManifest } from '#core/manifest.ts';
import { counterKeyString, type TaskInstance, type TiKey } from '#core/model.ts';
import { describeWaitReason, liveCounter, withLiveCount } from '#core/wait-reasons.ts';
import type { LogStore, Page, PageRequest, ResultStore } from '#ports';
import type { ServiceDeps } from './deps.ts';
import { pageOf } from './paging.ts';
import { RESULT_REF } from './run-try.ts';
import { requireRun } from './runs.ts';

export interface TryInfo {
  tryNumber: number;
  current: boolean;
  /** How the try ended (the instance's state for the current try); null for one older than the history. */
  state: TaskInstance['state'] | null;
  startedAt: number | null;
  endedAt: number | null;
  /** Where it ran (`lambda:<log stream>`, `local:<pid>`, `container:<task>`). */
  workerId: string | null;
  /** Its error, cut short in the history (the instance's `error` has the current one whole). */
  error: string | null;
}

export interface TiDetail {
  ti: TaskInstance;
  /** The task as the run's DAG version defines it; null if that version cannot be read. */
  task: TaskManifest | null;
  /** Why the instance is waiting, in plain words; null when it is not waiting. */
  waitReasonText: string | null;
  tries: TryInfo[];
  /** The result, read back from the result store when it was too large for the item. */
  result: unknown;
}

/** A stored result larger than this is answered with its reference, not its content. */
const MAX_RESULT_BYTES = 1_000_000;

/** The result of a try; a large one is read back from the result store (when there is one). */
async function resultOf(deps: { results?: ResultStore }, ti: TaskInstance): Promise<unknown> {
  const value = ti.result;
  if (value === null || typeof value !== 'object') return value ?? null;
  const ref = (value as Record<string, unknown>)[RESULT_REF];
  if (typeof ref !== 'string' || !deps.results) return value;
  const bytes = (value as Record<string, unknown>).bytes;
  if (typeof bytes === 'number' && bytes > MAX_RESULT_BYTES) return value;
  const text = await deps.results.get(ref);
  return text === null ? value : JSON.parse(text);
}

function keyOf(ti: TiKey): TiKey {
  return { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex };
}

/**
 * The instances with the live count in their wait reasons: a stored reason keeps the count it was
 * written with, since it is rewritten only when its cause changes (claim pass), so the counters are
 * read here, once for all of them.
 */
async function withLiveWaitCounts(deps: ServiceDeps, tis: TaskInstance[]): Promise<TaskInstance[]> {
  const wanted = new Map<string, NonNullable<ReturnType<typeof liveCounter>>>();
  for (const ti of tis) {
    const counter = ti.waitReason && liveCounter(ti, ti.waitReason);
    if (counter) wanted.set(counterKeyString(counter), counter);
  }
  if (wanted.size === 0) return tis;
  const used = new Map(
    (await deps.store.readCounters([...wanted.values()])).map((c) => [counterKeyString(c.key), c.used]),
  );
  return tis.map((ti) => {
    const counter = ti.waitReason && liveCounter(ti, ti.waitReason);
    if (!ti.waitReason || !counter) return ti;
    return { ...ti, waitReason: withLiveCount(ti.waitReason, used.get(counterKeyString(counter)) ?? 0) };
  });
}

/** The instances of a run, in the DAG's topological order (then map index), wait reasons with live counts. */
async function listRunTis(
  deps: ServiceDeps,
  dagId: string,
  runId: string,
  request: PageRequest,
): Promise<Page<TaskInstance>> {
  const run = await requireRun(deps, dagId, runId);
  const tis = await deps.store.listTis(dagId, runId);
  const order = new Map<string, number>();
  try {
    const dag = await deps.manifests.get(dagId, run.dagVersion);
    dag.tasks.forEach((t, i) => void order.set(t.taskId, i));
  } catch {
    // Without the manifest the instances page in task id order.
  }
  const page = pageOf(tis, request, (ti) => [order.get(ti.taskId) ?? order.size, ti.taskId, ti.mapIndex]);
  return { ...page, items: await withLiveWaitCounts(deps, page.items) };
}

async function requireTi(deps: ServiceDeps, key: TiKey): Promise<TaskInstance> {
  const ti = await deps.store.getTi(key);
  if (!ti) {
    await requireRun(deps, key.dagId, key.runId);
    const index = key.mapIndex >= 0 ? ` (map index ${key.mapIndex})` : '';
    throw new NotFoundError(
      `run ${key.runId} of DAG ${key.dagId} has no task instance ${key.taskId}${index}`,
    );
  }
  return ti;
}

async function getTiDetail(
  deps: ServiceDeps & { results?: ResultStore },
  key: TiKey,
  now: number,
): Promise<TiDetail> {
  const [ti] = await withLiveWaitCounts(deps, [await requireTi(deps, key)]);
  if (!ti) throw new Error('unreachable: one instance in, one out');
  let task: TaskManifest | null = null;
  try {
    const dag = await deps.manifests.get(ti.dagId, ti.dagVersion);
    task = dag.tasks.find((t) => t.taskId === ti.taskId) ?? null;
  } catch {
    task = null;
  }
  const history = new Map((await deps.store.listTries(key)).map((t) => [t.tryNumber, t]));
  const tries: TryInfo[] = [];
  for (let n = 1; n <= ti.tryNumber; n += 1) {
    const current = n === ti.tryNumber;
    const ended = history.get(n);
    tries.push(
      current
        ? {
            tryNumber: n,
            current,
            state: ti.state,
            // A sensor's try started at its first poke (the history has it).
            startedAt: ended?.startedAt ?? ti.startedAt,
            endedAt: ti.endedAt,
            workerId: ti.workerId ?? ended?.workerId ?? null,
            error: ti.error,
          }
        : {
            tryNumber: n,
            current,
            state: ended?.state ?? null,
            startedAt: ended?.startedAt ?? null,
            endedAt: ended?.endedAt ?? null,
            workerId: ended?.workerId ?? null,
            error: ended?.error ?? null,
          },
    );
  }
  return {
    ti,
    task,
    waitReasonText: ti.waitReason ? describeWaitReason(ti.waitReason, now) : null,
    tries,
    result: await resultOf(deps, ti),
  };
}

/** The lines one try logged, paged by line number. */
async function readTryLog(
  deps: ServiceDeps & { logs: LogStore },
  key: TiKey,
  tryNumber: number,
  request: PageRequest,
): Promise<Page<{ line: number; text: string }>> {
  const ti = await requireTi(deps, key);
  if (!Number.isInteger(tryNumber) || tryNumber < 1 || tryNumber > ti.tryNumber) {
    const tries = ti.tryNumber === 0 ? 'it has not been tried yet' : `its tries are 1 to ${ti.tryNumber}`;
    throw new NotFoundError(`task instance ${ti.taskId} has no try ${tryNumber}: ${tries}`);
  }
  const lines = await deps.logs.read(keyOf(ti), tryNumber);
  return pageOf(
    lines.map((text, i) => ({ line: i + 1, text })),
    request,
    (l) => [l.line],
  );
}

export { getTiDetail, listRunTis, readTryLog, requireTi };
