/**
 * A backfill's rolling window: its runs are created (or re-run) a few at a time as earlier ones
 * finish, never all up front, so a 10,000-day backfill writes its first runs at once and the rest
 * as it goes. The window keeps up to `2 × maxActiveRuns` of its runs unfinished: `maxActiveRuns`
 * running and as many queued behind them, so a finished run is replaced in the same scheduler pass.
 *
 * The backfill's `materialized` counts the planned logical dates (in start order) already acted on;
 * it moves forward under the backfill's revision. Acting on a date is idempotent — a run is created
 * under a run id derived from its logical date, a re-run is conditional on the run's state, and a
 * run this backfill already owns is left alone — so two schedulers filling the same window, or a
 * retried create, never act twice: the loser of the revision race just stops.
 */
import { planBackfill } from '#core/backfill.ts';
import { planClear } from '#core/clear.ts';
import { type Backfill, type DagRun, MAX_SKIPS_KEPT } from '#core/model.ts';
import { makeTaskInstances } from '#core/runs.ts';
import { type RunInfo, timetableFor } from '#core/timetable.ts';
import { newRun } from './create-runs.ts';
import { allPages, type ServiceDeps } from './deps.ts';

/** At most this many runs per backfill. */
const MAX_BACKFILL_RUNS = 10_000;
/** At most this many logical dates looked at in one step (a long stretch of skips waits for the next). */
const MAX_LOOKS_PER_STEP = 500;

export interface WindowEntry {
  logicalDate: number;
  runId: string;
  action: 'create' | 'clear' | 'skip';
  reason: string | null;
}

const windowSize = (backfill: Pick<Backfill, 'maxActiveRuns'>) => 2 * backfill.maxActiveRuns;

/** The backfill's logical dates in start order (those whose interval had ended at creation). */
function orderedSlots(
  schedule: Parameters<typeof timetableFor>[0],
  range: { from: number; to: number; runBackwards: boolean; createdAt: number },
): RunInfo[] {
  const slots = timetableFor(schedule).slotsBetween(range.from, range.to, MAX_BACKFILL_RUNS + 1);
  const ended = slots.filter((s) => s.dataIntervalEnd <= range.createdAt);
  return range.runBackwards ? ended.reverse() : ended;
}

async function unfinishedRunsOf(deps: ServiceDeps, backfill: Backfill): Promise<DagRun[]> {
  const runs = await allPages((cursor) => deps.store.listUnfinishedRuns({ dagId: backfill.dagId, cursor }));
  return runs.filter((r) => r.backfillId === backfill.backfillId);
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

export interface WindowStep {
  backfill: Backfill;
  /** Logical dates acted on in this step, in start order. */
  entries: WindowEntry[];
  /** Whether this step's update of the backfill won (false: another writer moved it first). */
  won: boolean;
}

/**
 * Fills the window: acts on the next planned logical dates until the window is full, then records
 * how far it got (and completes the backfill when nothing is left to create or run). `open` is the
 * number of the backfill's runs that are unfinished, when the caller has just counted them.
 */
async function fillWindow(
  deps: ServiceDeps,
  backfill: Backfill,
  now: number,
  open?: number,
): Promise<WindowStep> {
  if (backfill.completedAt !== null) return { backfill, entries: [], won: false };
  const unfinished = open ?? (await unfinishedRunsOf(deps, backfill)).length;
  if (backfill.cancelledAt !== null) {
    // Cancelled: nothing more is created; it completes once its running runs have finished.
    if (unfinished > 0) return { backfill, entries: [], won: false };
    const patch = { completedAt: now };
    const won = await deps.store.updateBackfill(backfill.backfillId, { revision: backfill.revision }, patch);
    return {
      backfill: won ? { ...backfill, ...patch, revision: backfill.revision + 1 } : backfill,
      entries: [],
      won,
    };
  }
  let room = windowSize(backfill) - unfinished;
  const entries: WindowEntry[] = [];
  let next = backfill.materialized;
  if (room > 0 && next < backfill.planned) {
    const record = await deps.store.getDag(backfill.dagId);
    const shape = await deps.manifests.get(backfill.dagId, backfill.dagVersion);
    // New runs use the DAG's current version, as scheduled runs do; the dates stay those planned.
    const current = record ? await deps.manifests.get(record.dagId, record.currentVersion) : shape;
    const slots = orderedSlots(shape.schedule, backfill);
    for (let looked = 0; room > 0 && next < slots.length && looked < MAX_LOOKS_PER_STEP; looked += 1) {
      const info = slots[next]!;
      const ordinal = next + 1;
      next += 1;
      const existing = await deps.store.findRunByLogicalDate(backfill.dagId, info.logicalDate);
      if (existing?.backfillId === backfill.backfillId) {
        // Acted on by an earlier step that did not get to record it.
        if (existing.state === 'queued' || existing.state === 'running') room -= 1;
        continue;
      }
      const [decision] = planBackfill({
        slots: [info],
        existing: existing ? new Map([[info.logicalDate, existing]]) : new Map(),
        reprocessBehavior: backfill.reprocessBehavior,
        runBackwards: false,
        now: backfill.createdAt,
      });
      if (!decision) continue;
      const tag = { backfillId: backfill.backfillId, backfillOrdinal: ordinal };
      if (decision.action === 'create') {
        const run = newRun(current, info, {
          runType: 'backfill',
          now,
          conf: backfill.conf,
          backfill: { id: backfill.backfillId, ordinal },
        });
        await deps.store.createRun(run, makeTaskInstances(current, run));
        entries.push({ logicalDate: info.logicalDate, runId: run.runId, action: 'create', reason: null });
        room -= 1;
      } else if (decision.action === 'clear' && existing) {
        await rerun(deps, existing, tag, now);
        entries.push({ logicalDate: info.logicalDate, runId: existing.runId, action: 'clear', reason: null });
        room -= 1;
      } else if (existing) {
        entries.push({
          logicalDate: info.logicalDate,
          runId: existing.runId,
          action: 'skip',
          reason: decision.reason ?? 'already exists',
        });
      }
    }
  }
  const skips = entries.filter((e) => e.action === 'skip');
  const created = entries.length - skips.length;
  const done = next >= backfill.planned && unfinished === 0 && created === 0;
  if (next === backfill.materialized && !done) return { backfill, entries, won: true };
  const patch = {
    materialized: next,
    skipped: [
      ...backfill.skipped,
      ...skips.map((s) => ({ logicalDate: s.logicalDate, reason: s.reason! })),
    ].slice(0, MAX_SKIPS_KEPT),
    skippedCount: backfill.skippedCount + skips.length,
    ...(done && { completedAt: now }),
  };
  const won = await deps.store.updateBackfill(backfill.backfillId, { revision: backfill.revision }, patch);
  const after = won ? { ...backfill, ...patch, revision: backfill.revision + 1 } : backfill;
  if (won && done) deps.logger.info('backfill completed', { backfillId: backfill.backfillId });
  return { backfill: after, entries, won };
}

/**
 * After runs finished (a scheduler pass, a run marked by hand): rolls the window of each of their
 * backfills, and completes those with nothing left to create or run.
 */
async function rollBackfills(deps: ServiceDeps, finished: DagRun[], now: number): Promise<void> {
  const ids = new Set(finished.map((r) => r.backfillId).filter((id): id is string => id !== null));
  for (const id of ids) {
    const backfill = await deps.store.getBackfill(id);
    if (backfill) await fillWindow(deps, backfill, now);
  }
}

/**
 * The sweep's safety net: every unfinished backfill's window is rolled, so one whose roll was lost
 * (a scheduler that died between a run's end and the next runs' creation) carries on.
 */
async function rollAllBackfills(deps: ServiceDeps, now: number): Promise<void> {
  for (const backfill of await deps.store.listUnfinishedBackfills()) await fillWindow(deps, backfill, now);
}

export {
  fillWindow,
  MAX_BACKFILL_RUNS,
  orderedSlots,
  rollAllBackfills,
  rollBackfills,
  unfinishedRunsOf,
  windowSize,
};
