/**
 * Backfills (SEMANTICS.md §9.4, 3.x model): a Backfill record and one run per schedule slot in
 * [from, to] whose interval has ended, created idempotently per logical date; existing runs are
 * skipped or cleared per the reprocess behaviour. Backfill runs start after scheduled runs, under
 * the backfill's own maxActiveRuns, and never count against the DAG's.
 */
import { planBackfill } from '#core/backfill.ts';
import { planClear } from '#core/clear.ts';
import { ConflictError, InputError, NotFoundError } from '#core/errors.ts';
import type { Backfill, DagRun, ReprocessBehavior } from '#core/model.ts';
import { makeTaskInstances, runIdFor } from '#core/runs.ts';
import { timetableFor } from '#core/timetable.ts';
import { newRun } from './create-runs.ts';
import type { ServiceDeps } from './deps.ts';

export interface BackfillRequest {
  dagId: string;
  from: number;
  to: number;
  reprocessBehavior?: ReprocessBehavior;
  runBackwards?: boolean;
  maxActiveRuns?: number;
  conf?: Record<string, unknown>;
  dryRun?: boolean;
  now: number;
}

export interface BackfillPlanEntry {
  logicalDate: number;
  runId: string;
  action: 'create' | 'clear' | 'skip';
  reason: string | null;
}

/** At most this many runs per backfill request. */
const MAX_BACKFILL_RUNS = 10_000;

async function createBackfill(
  deps: ServiceDeps,
  request: BackfillRequest,
): Promise<{ backfill: Backfill | null; plan: BackfillPlanEntry[] }> {
  const { store } = deps;
  const record = await store.getDag(request.dagId);
  if (!record?.active) throw new NotFoundError(`DAG ${request.dagId} not found`);
  if (request.from > request.to) throw new InputError('from', 'must not be after to');
  const maxActiveRuns = request.maxActiveRuns ?? 10;
  if (!Number.isInteger(maxActiveRuns) || maxActiveRuns < 1) {
    throw new InputError('maxActiveRuns', 'must be a whole number ≥ 1');
  }
  const dag = await deps.manifests.get(record.dagId, record.currentVersion);
  const slots = timetableFor(dag.schedule).slotsBetween(request.from, request.to, MAX_BACKFILL_RUNS + 1);
  if (slots.length > MAX_BACKFILL_RUNS) {
    throw new InputError(
      'to',
      `the range holds more than ${MAX_BACKFILL_RUNS} runs; split it into smaller backfills`,
    );
  }
  const existing = new Map<number, DagRun>();
  for (const slot of slots) {
    const run = await store.findRunByLogicalDate(request.dagId, slot.logicalDate);
    if (run) existing.set(slot.logicalDate, run);
  }
  const entries = planBackfill({
    slots,
    existing,
    reprocessBehavior: request.reprocessBehavior ?? 'none',
    runBackwards: request.runBackwards ?? false,
    now: request.now,
  });
  if (entries.length === 0) {
    throw new InputError(
      'from',
      'no schedule interval in this range has ended yet: backfills cover past intervals only',
    );
  }
  const plan = entries.map((e) => ({
    logicalDate: e.info.logicalDate,
    runId: e.existing?.runId ?? runIdFor('backfill', e.info.logicalDate),
    action: e.action,
    reason: e.reason,
  }));
  if (request.dryRun) return { backfill: null, plan };

  const unfinished = (await store.listBackfills(request.dagId)).find((b) => !b.completedAt && !b.cancelledAt);
  if (unfinished) {
    throw new ConflictError(
      `DAG ${request.dagId} already has an unfinished backfill (${unfinished.backfillId}): wait for it or cancel it first`,
    );
  }
  const backfill: Backfill = {
    backfillId: `${request.dagId}__${new Date(request.now).toISOString()}`,
    dagId: request.dagId,
    from: request.from,
    to: request.to,
    reprocessBehavior: request.reprocessBehavior ?? 'none',
    runBackwards: request.runBackwards ?? false,
    maxActiveRuns,
    conf: request.conf ?? {},
    createdAt: request.now,
    completedAt: null,
    cancelledAt: null,
    skipped: entries
      .filter((e) => e.action === 'skip')
      .map((e) => ({ logicalDate: e.info.logicalDate, reason: e.reason! })),
  };
  const { created } = await store.createBackfill(backfill);
  if (!created) throw new ConflictError(`backfill ${backfill.backfillId} already exists`);

  for (const entry of entries) {
    const tag = { backfillId: backfill.backfillId, backfillOrdinal: entry.ordinal };
    if (entry.action === 'create') {
      const run = newRun(dag, entry.info, {
        runType: 'backfill',
        now: request.now,
        conf: backfill.conf,
        backfill: { id: backfill.backfillId, ordinal: entry.ordinal },
      });
      await store.createRun(run, makeTaskInstances(dag, run));
    } else if (entry.action === 'clear' && entry.existing) {
      await rerun(deps, entry.existing, tag, request.now);
    }
  }
  if (entries.every((e) => e.action === 'skip'))
    await store.updateBackfill(backfill.backfillId, { completedAt: request.now });
  await deps.events.publish([{ type: 'tick', dagId: request.dagId }]);
  return { backfill, plan };
}

/** Clears every task of a finished run and hands the run to the backfill (Airflow's `dag.clear(run)`). */
async function rerun(
  deps: ServiceDeps,
  run: DagRun,
  tag: { backfillId: string; backfillOrdinal: number },
  now: number,
): Promise<void> {
  const dag = await deps.manifests.get(run.dagId, run.dagVersion);
  const tis = await deps.store.listTis(run.dagId, run.runId);
  const plan = planClear({
    dag,
    run,
    tis,
    taskIds: dag.tasks.map((t) => t.taskId),
    downstream: false,
    onlyFailed: false,
    now,
  });
  await deps.store.updateTis(plan.transitions);
  if (plan.run) {
    await deps.store.updateRun(
      run.dagId,
      run.runId,
      { state: plan.run.expect },
      { ...plan.run.set, runType: 'backfill', ...tag },
    );
  }
}

/** Marks backfills complete once none of their runs is queued or running. */
async function completeBackfills(deps: ServiceDeps, finished: DagRun[], now: number): Promise<void> {
  const ids = new Set(finished.map((r) => r.backfillId).filter((id): id is string => id !== null));
  for (const id of ids) {
    const backfill = await deps.store.getBackfill(id);
    if (!backfill || backfill.completedAt) continue;
    const open = await deps.store.listUnfinishedRuns({ dagId: backfill.dagId, limit: 1000 });
    if (!open.items.some((r) => r.backfillId === id))
      await deps.store.updateBackfill(id, { completedAt: now });
  }
}

export { completeBackfills, createBackfill };
