/**
 * One scheduler pass (DESIGN.md "Shape"): create due runs, start queued runs, evaluate running runs,
 * claim slots and dispatch. Any number of passes may run at once; correctness never depends on
 * there being one, because every change is a conditional write.
 */
import { type AdvanceReport, advanceRuns } from './advance-runs.ts';
import { completeBackfills } from './backfill.ts';
import { rollAllBackfills } from './backfill-window.ts';
import { type ClaimReport, claimAndDispatch } from './claim-pass.ts';
import { createDueRuns } from './create-runs.ts';
import type { ServiceDeps } from './deps.ts';
import { runSweep, type SweepReport } from './sweep.ts';

export interface PassOptions {
  now: number;
  /** Only these runs are evaluated (event-driven pass); all unfinished runs when absent. */
  runs?: { dagId: string; runId: string }[];
  /** Only these DAGs get new scheduled runs; every due DAG when absent. */
  dagIds?: string[];
  /** DAGs with news that is not about one run (a backfill was created, a pool changed): their queued runs may start. */
  dags?: string[];
  /** Also sweep heartbeats, stuck dispatches and due retries first. */
  sweep?: boolean;
}

export interface PassReport {
  runsCreated: number;
  advance: AdvanceReport;
  claim: ClaimReport;
  sweep: SweepReport | null;
}

async function schedulerPass(deps: ServiceDeps, options: PassOptions): Promise<PassReport> {
  const { now } = options;
  const sweep = options.sweep ? await runSweep(deps, now) : null;
  // The sweep also rolls every unfinished backfill's window, in case a roll was lost.
  if (sweep) await rollAllBackfills(deps, now);
  const creation = await createDueRuns(deps, now, options.dagIds);
  let runsCreated = creation.created;
  const runs = options.runs && sweep ? [...options.runs, ...sweep.dueRuns] : options.runs;
  const dags = [...creation.dagIds, ...(options.dags ?? [])];
  const advance = await advanceRuns(deps, now, runs ? { runs, dags } : undefined);
  if (advance.runsFinished.length > 0) {
    await completeBackfills(deps, advance.runsFinished, now);
    // A finished run frees a maxActiveRuns slot: create and start what was waiting for it now.
    const finishedDags = [...new Set(advance.runsFinished.map((r) => r.dagId))];
    runsCreated += (await createDueRuns(deps, now, finishedDags)).created;
    const again = await advanceRuns(deps, now, { runs: [], dags: finishedDags });
    advance.runsStarted += again.runsStarted;
    advance.tisChanged += again.tisChanged;
    for (const pool of again.poolsTouched) advance.poolsTouched.add(pool);
    advance.scheduled.push(...again.scheduled);
    for (const [dagId, record] of again.dags) advance.dags.set(dagId, record);
  }
  const claim = await claimAndDispatch(deps, now, { scheduled: advance.scheduled, dags: advance.dags });
  return { runsCreated, advance, claim, sweep };
}

export { schedulerPass };
