/**
 * Clearing task instances (SEMANTICS.md §8, Airflow's `clearTaskInstances`): the chosen tasks, with
 * everything downstream of them if asked, in one run or in every run whose logical date is in a
 * range, optionally only the failed ones; a dry run says what would be cleared and changes nothing.
 * The rules per run are core/clear.ts; this applies them.
 *
 * Everything is planned before anything is written, so a bad task id changes nothing. Writes are
 * conditional: an instance that changed since it was read (a try that just ended) is not cleared and
 * is reported under `skipped`, so the caller can look again.
 */
import { planClear } from '#core/clear.ts';
import { InputError } from '#core/errors.ts';
import type { DagRun, TaskInstance, TiKey } from '#core/model.ts';
import { tiKeyString } from '#core/model.ts';
import { requireDag } from './dags.ts';
import type { ServiceDeps } from './deps.ts';
import { requireRun } from './runs.ts';

export interface ClearRequest {
  dagId: string;
  /** One run, or every run with `from <= logicalDate <= to` (give one or the other). */
  runId?: string;
  from?: number;
  to?: number;
  taskIds: string[];
  includeDownstream?: boolean;
  onlyFailed?: boolean;
  dryRun?: boolean;
  now: number;
}

export interface ClearedTi extends TiKey {
  /** The state it was in before clearing. */
  state: TaskInstance['state'];
  tryNumber: number;
}

export interface ClearResult {
  cleared: ClearedTi[];
  /** Instances that changed between the read and the write and were left as they are. */
  skipped: ClearedTi[];
  /** Runs that went back to queued because something in them was cleared. */
  runsRequeued: { dagId: string; runId: string }[];
  dryRun: boolean;
}

/** Runs a range clear may touch at most. */
const MAX_CLEAR_RUNS = 1000;

function cleared(t: { key: TiKey; expect: { state: TaskInstance['state']; tryNumber: number } }): ClearedTi {
  return { ...t.key, state: t.expect.state, tryNumber: t.expect.tryNumber };
}

async function runsInRange(deps: ServiceDeps, dagId: string, from: number, to: number): Promise<DagRun[]> {
  const out: DagRun[] = [];
  let cursor: string | null = null;
  do {
    // Newest logical date first: stop at the first page that reaches below the range.
    const page = await deps.store.listRuns(dagId, { cursor, limit: 200 });
    for (const run of page.items) if (run.logicalDate >= from && run.logicalDate <= to) out.push(run);
    if (out.length > MAX_CLEAR_RUNS) {
      throw new InputError('from', `the range holds more than ${MAX_CLEAR_RUNS} runs; clear a smaller one`);
    }
    if (page.items.some((r) => r.logicalDate < from)) break;
    cursor = page.next;
  } while (cursor);
  return out;
}

async function selectRuns(deps: ServiceDeps, request: ClearRequest): Promise<DagRun[]> {
  const range = request.from !== undefined || request.to !== undefined;
  if (request.runId !== undefined && range) {
    throw new InputError('runId', 'give either runId or from/to, not both');
  }
  if (request.runId !== undefined) return [await requireRun(deps, request.dagId, request.runId)];
  if (request.from === undefined || request.to === undefined) {
    throw new InputError(request.from === undefined ? 'from' : 'to', 'is required when runId is not given');
  }
  if (request.from > request.to) throw new InputError('from', 'must not be after to');
  return runsInRange(deps, request.dagId, request.from, request.to);
}

async function clearTaskInstances(deps: ServiceDeps, request: ClearRequest): Promise<ClearResult> {
  const record = await requireDag(deps, request.dagId);
  if (request.taskIds.length === 0) throw new InputError('taskIds', 'name at least one task');
  const current = await deps.manifests.get(record.dagId, record.currentVersion);
  const known = new Set(current.tasks.map((t) => t.taskId));
  const unknown = request.taskIds.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new InputError('taskIds', `DAG ${record.dagId} has no task ${unknown.join(', ')}`);
  }
  const runs = await selectRuns(deps, request);

  // Plan every run before writing anything.
  const plans = [];
  for (const run of runs) {
    const dag = await deps.manifests.get(run.dagId, run.dagVersion);
    // A task the run's (older) version does not have has nothing to clear in that run.
    const taskIds = request.taskIds.filter((id) => dag.tasks.some((t) => t.taskId === id));
    if (taskIds.length === 0) continue;
    const tis = await deps.store.listTis(run.dagId, run.runId);
    const plan = planClear({
      dag,
      run,
      tis,
      taskIds,
      downstream: request.includeDownstream ?? false,
      onlyFailed: request.onlyFailed ?? false,
      now: request.now,
    });
    plans.push({ run, plan });
  }

  const result: ClearResult = { cleared: [], skipped: [], runsRequeued: [], dryRun: request.dryRun ?? false };
  if (result.dryRun) {
    for (const { run, plan } of plans) {
      result.cleared.push(...[...plan.transitions, ...plan.endTries].map(cleared));
      if (plan.run) result.runsRequeued.push({ dagId: run.dagId, runId: run.runId });
    }
    return result;
  }
  for (const { run, plan } of plans) {
    const { applied } = await deps.store.updateTis(plan.transitions);
    const done = new Set(applied.map(tiKeyString));
    for (const end of plan.endTries) {
      const expect = { state: end.expect.state as 'queued' | 'running', tryNumber: end.expect.tryNumber };
      if (await deps.store.endTry({ key: end.key, expect, set: end.set })) done.add(tiKeyString(end.key));
    }
    for (const t of [...plan.transitions, ...plan.endTries]) {
      (done.has(tiKeyString(t.key)) ? result.cleared : result.skipped).push(cleared(t));
    }
    if (plan.run && done.size > 0) {
      const requeued = await deps.store.updateRun(
        run.dagId,
        run.runId,
        { state: plan.run.expect },
        plan.run.set,
      );
      if (requeued) result.runsRequeued.push({ dagId: run.dagId, runId: run.runId });
    }
  }
  if (result.cleared.length > 0) {
    deps.logger.info('task instances cleared', { dagId: record.dagId, cleared: result.cleared.length });
    const touched = new Map(result.cleared.map((c) => [`${c.dagId}/${c.runId}`, c]));
    await deps.events.publish(
      [...touched.values()].map((c) => ({ type: 'run_triggered' as const, dagId: c.dagId, runId: c.runId })),
    );
  }
  return result;
}

export { clearTaskInstances };
