/**
 * One scheduler pass (DESIGN.md "Shape"): create due runs, start queued runs, evaluate running runs,
 * claim slots and dispatch. Any number of passes may run at once; correctness never depends on
 * there being one, because every change is a conditional write.
 */
import { type AdvanceReport, advanceRuns, type RunRef } from './advance-runs.ts';
import { completeBackfills } from './backfill.ts';
import { rollAllBackfills } from './backfill-window.ts';
import { type ClaimReport, claimAndDispatch, readClaimInputs } from './claim-pass.ts';
import { createDueRuns } from './create-runs.ts';
import type { ServiceDeps } from './deps.ts';
import { runSweep, type SweepReport } from './sweep.ts';

export interface PassOptions {
  now: number;
  /**
   * Only these runs are evaluated (event-driven pass); all unfinished runs when absent. A run with
   * `ended` tasks is looked at from their downstream (advance-runs.ts).
   */
  runs?: RunRef[];
  /** Only these DAGs get new scheduled runs; every due DAG when absent. */
  dagIds?: string[];
  /**
   * With `dagIds` absent (every due DAG, a capped listing): DAGs woken by their own schedule in the
   * same batch, whose due runs are created whether or not the listing reached them.
   */
  wokenDagIds?: string[];
  /** DAGs with news that is not about one run (a backfill was created, a pool changed): their queued runs may start. */
  dags?: string[];
  /**
   * Also sweep heartbeats, stuck dispatches and due retries first; then every unfinished run is
   * listed, but only `runs`, the runs with due waits and those `sweepLook` picks are evaluated.
   */
  sweep?: boolean;
}

export interface PassReport {
  runsCreated: number;
  advance: AdvanceReport;
  claim: ClaimReport;
  sweep: SweepReport | null;
}

/**
 * A finished run frees a maxActiveRuns slot: what was waiting for it is created and started now
 * (added to `advance`); returns how many runs were created.
 */
async function afterRunsFinished(deps: ServiceDeps, now: number, advance: AdvanceReport): Promise<number> {
  if (advance.runsFinished.length === 0) return 0;
  await completeBackfills(deps, advance.runsFinished, now);
  const finishedDags = [...new Set(advance.runsFinished.map((r) => r.dagId))];
  const created = (await createDueRuns(deps, now, finishedDags)).created;
  const again = await advanceRuns(deps, now, { runs: [], dags: finishedDags }, true);
  advance.runsStarted += again.runsStarted;
  advance.tisChanged += again.tisChanged;
  for (const pool of again.poolsTouched) advance.poolsTouched.add(pool);
  advance.scheduled.push(...again.scheduled);
  advance.toSchedule.push(...again.toSchedule);
  for (const [dagId, record] of again.dags) advance.dags.set(dagId, record);
  advance.runs.push(...again.runs);
  return created;
}

async function schedulerPass(deps: ServiceDeps, options: PassOptions): Promise<PassReport> {
  const { now } = options;
  const sweep = options.sweep ? await runSweep(deps, now) : null;
  // The sweep also rolls every unfinished backfill's window, in case a roll was lost.
  if (sweep) await rollAllBackfills(deps, now);
  // An event-driven pass about runs reads the claim step's pools and counters beside its look at
  // the runs, so they are not one more step in series before the claim.
  const inputs =
    options.runs && options.runs.length > 0 && !sweep
      ? readClaimInputs(deps, [...options.runs.map((r) => r.dagId), ...(options.dagIds ?? [])])
      : undefined;
  inputs?.catch(() => undefined);
  const creation = await createDueRuns(deps, now, options.dagIds);
  let runsCreated = creation.created;
  if (!options.dagIds && options.wokenDagIds?.length) {
    // Those the listing reached have moved on to their next run: they are read again and skipped.
    const woken = await createDueRuns(deps, now, options.wokenDagIds);
    runsCreated += woken.created;
    creation.dagIds.push(...woken.dagIds.filter((id) => !creation.dagIds.includes(id)));
  }
  // The sweep lists every unfinished run (queued runs start wherever they may) but looks only at
  // the runs with news, those with due retries or reschedules, and those that need it (sweepLook).
  const runs = sweep ? [...(options.runs ?? []), ...sweep.dueRuns] : options.runs;
  const dags = [...creation.dagIds, ...(options.dags ?? [])];
  // What the runs' looks schedule is written by the claim step (deferred): an instance it claims
  // at once goes none → queued in the claim's transaction, the rest is written scheduled with its
  // wait reason in that put.
  const advance = await advanceRuns(
    deps,
    now,
    sweep ? { runs: runs!, dags, sweep: { busy: sweep.busyRuns } } : runs ? { runs, dags } : undefined,
    true,
  );
  runsCreated += await afterRunsFinished(deps, now, advance);
  const claim = await claimAndDispatch(deps, now, {
    scheduled: advance.scheduled,
    toSchedule: advance.toSchedule,
    dags: advance.dags,
    inputs,
    runs: advance.runs,
  });
  advance.toSchedule = [];
  return { runsCreated, advance, claim, sweep };
}

export { schedulerPass };
