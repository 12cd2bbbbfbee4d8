/**
 * Backfill planning (SEMANTICS.md §9.4, Airflow 3.x `_create_backfill`): one entry per schedule slot
 * in [from, to] whose data interval has ended; an existing run is skipped while in flight, kept or
 * re-run per the reprocess behaviour. Pure: existing runs and `now` are arguments.
 */
import type { Backfill, DagRun, ReprocessBehavior } from './model.ts';
import type { RunInfo } from './timetable.ts';

export interface BackfillSlotPlan {
  info: RunInfo;
  /** Order in which the backfill starts its runs (1 = first). */
  ordinal: number;
  action: 'create' | 'clear' | 'skip';
  /** The run that exists at this logical date, if any. */
  existing: DagRun | null;
  reason: string | null;
}

function decide(
  existing: DagRun | null,
  behavior: ReprocessBehavior,
): Pick<BackfillSlotPlan, 'action' | 'reason'> {
  if (!existing) return { action: 'create', reason: null };
  if (existing.state !== 'success' && existing.state !== 'failed')
    return { action: 'skip', reason: 'in flight' };
  switch (behavior) {
    case 'none':
      return { action: 'skip', reason: 'already exists' };
    case 'failed':
      return existing.state === 'failed'
        ? { action: 'clear', reason: null }
        : { action: 'skip', reason: 'already exists' };
    case 'completed':
      return { action: 'clear', reason: null };
  }
}

function planBackfill(input: {
  /** Slots of the DAG's timetable in [from, to], ascending. */
  slots: RunInfo[];
  /** The latest run at each logical date that has one. */
  existing: Map<number, DagRun>;
  reprocessBehavior: ReprocessBehavior;
  runBackwards: boolean;
  now: number;
}): BackfillSlotPlan[] {
  const ended = input.slots.filter((s) => s.dataIntervalEnd <= input.now);
  const ordered = input.runBackwards ? [...ended].reverse() : ended;
  return ordered.map((info, i) => {
    const existing = input.existing.get(info.logicalDate) ?? null;
    return { info, ordinal: i + 1, existing, ...decide(existing, input.reprocessBehavior) };
  });
}

export { planBackfill };

/** A backfill as stored by an older Updraft (before revisions and rolling creation): every run was created up front. */
function backfillWithDefaults(stored: Partial<Backfill> & Omit<Backfill, StoredLater>): Backfill {
  return {
    ...stored,
    skippedCount: stored.skippedCount ?? stored.skipped.length,
    idempotencyKey: stored.idempotencyKey ?? stored.backfillId,
    dagVersion: stored.dagVersion ?? '',
    planned: stored.planned ?? 0,
    materialized: stored.materialized ?? 0,
    revision: stored.revision ?? 0,
  };
}

type StoredLater = 'skippedCount' | 'idempotencyKey' | 'dagVersion' | 'planned' | 'materialized' | 'revision';

export { backfillWithDefaults };
