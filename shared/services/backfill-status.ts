/**
 * Backfills after creation (backfill.ts creates them): their progress, and cancelling one.
 *
 * Progress counts the backfill's runs by state, with an estimate of the time left from the
 * durations of the runs it already finished. Cancelling (Airflow 3's `_cancel_backfill`) stops the
 * backfill from starting runs, fails the runs it had not started yet, and lets running runs finish
 * unless `failRunning` marks them failed as well.
 */
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { Backfill, DagRun } from '#core/model.ts';
import type { Page, PageRequest } from '#ports';
import { fillWindow } from './backfill-window.ts';
import { requireDag } from './dags.ts';
import { allPages, type ServiceDeps } from './deps.ts';
import { pageOf } from './paging.ts';
import { markRun } from './runs.ts';

export interface BackfillProgress {
  /** Runs the backfill created or re-ran, plus the logical dates it has not looked at yet (`pending`). */
  total: number;
  /** Logical dates not looked at yet: their runs are created as the window rolls (or skipped then). */
  pending: number;
  queued: number;
  running: number;
  success: number;
  failed: number;
  /** Logical dates it left alone at creation (a run in flight, one that already existed). */
  skipped: number;
  /** Finished runs as a share of `total`, 0–1 (1 when there is nothing to run). */
  fraction: number;
  /** Estimated time until every run is finished, from the durations observed so far; null before any. */
  etaMs: number | null;
}

export interface BackfillStatus {
  backfill: Backfill;
  state: 'running' | 'completed' | 'cancelled';
  progress: BackfillProgress;
}

/** The runs of a backfill, all inside its logical-date range: read newest first until below `from`. */
async function backfillRuns(deps: ServiceDeps, backfill: Backfill): Promise<DagRun[]> {
  const out: DagRun[] = [];
  let cursor: string | null = null;
  do {
    const page = await deps.store.listRuns(backfill.dagId, { cursor, limit: 500 });
    for (const run of page.items) if (run.backfillId === backfill.backfillId) out.push(run);
    if (page.items.some((r) => r.logicalDate < backfill.from)) break;
    cursor = page.next;
  } while (cursor);
  return out;
}

function progressOf(backfill: Backfill, runs: DagRun[]): BackfillProgress {
  const count = (state: DagRun['state']) => runs.filter((r) => r.state === state).length;
  const [queued, running, success, failed] = [
    count('queued'),
    count('running'),
    count('success'),
    count('failed'),
  ];
  // A cancelled backfill looks at nothing more.
  const pending = backfill.cancelledAt ? 0 : Math.max(0, backfill.planned - backfill.materialized);
  const total = runs.length + pending;
  const durations = runs
    .filter(
      (r) => (r.state === 'success' || r.state === 'failed') && r.startedAt !== null && r.endedAt !== null,
    )
    .map((r) => r.endedAt! - r.startedAt!);
  const left = queued + running + pending;
  let etaMs: number | null = null;
  if (left === 0) etaMs = 0;
  else if (durations.length > 0 && !backfill.cancelledAt) {
    const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
    // Runs go `maxActiveRuns` at a time: the waves still to come, each about one mean run long.
    etaMs = Math.round(Math.ceil(left / Math.max(1, backfill.maxActiveRuns)) * mean);
  }
  return {
    total,
    pending,
    queued,
    running,
    success,
    failed,
    skipped: backfill.skippedCount,
    fraction: total === 0 ? 1 : (success + failed) / total,
    etaMs,
  };
}

async function statusOf(deps: ServiceDeps, backfill: Backfill): Promise<BackfillStatus> {
  const runs = await backfillRuns(deps, backfill);
  const state = backfill.cancelledAt ? 'cancelled' : backfill.completedAt ? 'completed' : 'running';
  return { backfill, state, progress: progressOf(backfill, runs) };
}

async function requireBackfill(deps: ServiceDeps, backfillId: string): Promise<Backfill> {
  const backfill = await deps.store.getBackfill(backfillId);
  if (!backfill) throw new NotFoundError(`backfill ${backfillId} not found`);
  return backfill;
}

async function getBackfillStatus(deps: ServiceDeps, backfillId: string): Promise<BackfillStatus> {
  return statusOf(deps, await requireBackfill(deps, backfillId));
}

/** The backfills of one DAG, newest first, each with its progress. */
async function listBackfillStatus(
  deps: ServiceDeps,
  dagId: string,
  request: PageRequest,
): Promise<Page<BackfillStatus>> {
  await requireDag(deps, dagId);
  const all = await deps.store.listBackfills(dagId);
  const page = pageOf(all, request, (b) => [-b.createdAt, b.backfillId]);
  return { items: await Promise.all(page.items.map((b) => statusOf(deps, b))), next: page.next };
}

async function cancelBackfill(
  deps: ServiceDeps,
  input: { backfillId: string; failRunning?: boolean; now: number },
): Promise<BackfillStatus> {
  // First stop it creating and starting runs (the scheduler gives a cancelled backfill no room),
  // then settle its runs. The update is conditional: a window roll that moved it first is read again.
  let backfill = await requireBackfill(deps, input.backfillId);
  for (;;) {
    if (backfill.cancelledAt) throw new ConflictError(`backfill ${backfill.backfillId} is already cancelled`);
    if (backfill.completedAt)
      throw new ConflictError(`backfill ${backfill.backfillId} has already completed`);
    const expect = { revision: backfill.revision };
    if (await deps.store.updateBackfill(backfill.backfillId, expect, { cancelledAt: input.now })) break;
    backfill = await requireBackfill(deps, input.backfillId);
  }
  const unfinished = await allPages((cursor) =>
    deps.store.listUnfinishedRuns({ dagId: backfill.dagId, cursor }),
  );
  for (const run of unfinished) {
    if (run.backfillId !== backfill.backfillId) continue;
    if (run.state === 'queued') {
      const patch = { state: 'failed' as const, endedAt: input.now, note: 'backfill cancelled' };
      // Its instances never started and stay as they are (as in Airflow). A run the scheduler started
      // meanwhile loses this write and finishes like the other running ones.
      await deps.store.updateRun(run.dagId, run.runId, { state: 'queued' }, patch);
    } else if (input.failRunning) {
      await markRun(deps, { dagId: run.dagId, runId: run.runId, state: 'failed', now: input.now });
    }
  }
  const cancelled = await requireBackfill(deps, backfill.backfillId);
  // Completes it now if none of its runs is left running (else the last one to finish does).
  await fillWindow(deps, cancelled, input.now);
  deps.logger.info('backfill cancelled', {
    backfillId: backfill.backfillId,
    failRunning: !!input.failRunning,
  });
  return getBackfillStatus(deps, backfill.backfillId);
}

export { cancelBackfill, getBackfillStatus, listBackfillStatus };
