/**
 * Step 1 of a scheduler pass: create every due scheduled run (timetable), capped by maxActiveRuns.
 * Two schedulers may do this at once: run creation is idempotent by run id and the DAG record is
 * updated under an optimistic lock, so the loser simply moves on.
 */
import type { DagManifest } from '#core/manifest.ts';
import type { DagRecord, DagRun } from '#core/model.ts';
import { makeTaskInstances, planRunCreation, runIdFor } from '#core/runs.ts';
import type { RunInfo } from '#core/timetable.ts';
import { allPages, type ServiceDeps } from './deps.ts';

/** A run record for a slot (scheduled or manual), in state queued. */
function newRun(
  dag: DagManifest,
  info: RunInfo,
  opts: {
    runType: DagRun['runType'];
    now: number;
    conf?: Record<string, unknown>;
    runId?: string;
    backfill?: { id: string; ordinal: number };
  },
): DagRun {
  return {
    dagId: dag.dagId,
    runId: opts.runId ?? runIdFor(opts.runType, info.logicalDate),
    runType: opts.runType,
    state: 'queued',
    logicalDate: info.logicalDate,
    dataIntervalStart: info.dataIntervalStart,
    dataIntervalEnd: info.dataIntervalEnd,
    runAfter: info.runAfter,
    dagVersion: dag.hash,
    conf: opts.conf ?? {},
    backfillId: opts.backfill?.id ?? null,
    backfillOrdinal: opts.backfill?.ordinal ?? null,
    createdAt: opts.now,
    startedAt: null,
    endedAt: null,
    clearNumber: 0,
    note: null,
  };
}

async function countActiveRuns(deps: ServiceDeps, dagId: string): Promise<number> {
  const runs = await allPages((cursor) => deps.store.listUnfinishedRuns({ dagId, cursor }));
  return runs.filter((r) => r.runType !== 'backfill').length;
}

/** Creates the due runs of one DAG; returns how many were created. */
async function createDueRunsForDag(deps: ServiceDeps, record: DagRecord, now: number): Promise<number> {
  if (record.paused || !record.active) return 0;
  const dag =
    deps.manifests.peek(record.dagId, record.currentVersion) ??
    (await deps.manifests.get(record.dagId, record.currentVersion));
  const activeRuns = await countActiveRuns(deps, record.dagId);
  const plan = planRunCreation({ dag, record, activeRuns, now });
  let created = 0;
  for (const info of plan.create) {
    const run = newRun(dag, info, { runType: 'scheduled', now });
    const result = await deps.store.createRun(run, makeTaskInstances(dag, run));
    if (result.created) created += 1;
  }
  const moved = await deps.store.updateDag(
    record.dagId,
    record.updatedAt,
    { nextRun: plan.nextRun, lastAutomatedInterval: plan.lastAutomatedInterval },
    now,
  );
  if (moved) await deps.schedules.setNextWakeUp(record.dagId, plan.nextRun ? plan.nextRun.runAfter : null);
  if (created > 0) deps.logger.info('runs created', { dagId: record.dagId, created });
  return created;
}

/** Step 1 for every due DAG (or only `dagIds`): how many runs were created, and for which DAGs. */
async function createDueRuns(
  deps: ServiceDeps,
  now: number,
  dagIds?: string[],
): Promise<{ created: number; dagIds: string[] }> {
  const records = dagIds
    ? (await Promise.all(dagIds.map((id) => deps.store.getDag(id)))).filter((d): d is DagRecord => d !== null)
    : await deps.store.listDagsDue(now, 500);
  let created = 0;
  const touched: string[] = [];
  for (const record of records) {
    if (!record.nextRun || record.nextRun.runAfter > now) continue;
    const n = await createDueRunsForDag(deps, record, now);
    created += n;
    if (n > 0) touched.push(record.dagId);
  }
  return { created, dagIds: touched };
}

export { createDueRuns, newRun };
