/**
 * DAG runs as the API and the console see them: lists, one run with its task-instance counts, and
 * marking a run success or failed (Airflow's "mark success" / "mark failed"). Triggering is
 * trigger-run.ts.
 *
 * Marking writes the run first, then its task instances: once the run is finished the scheduler
 * stops evaluating it, so no new pass schedules an instance the mark is about to settle (one that
 * read the run as running just before may still: the store keeps a run that finished with an
 * instance unsettled where the sweep finds its holders, docs/state-store.md "Holders"). Every write
 * is conditional; an instance that changed between the read and the write (a try that just ended)
 * is read again and planned again, a bounded number of times.
 */
import { NotFoundError } from '#core/errors.ts';
import { type MarkState, planMarkRun } from '#core/mark.ts';
import type { DagRun, TaskInstance } from '#core/model.ts';
import { type RunState, TI_STATES, type TiState } from '#core/states.ts';
import type { Page, PageRequest } from '#ports';
import { completeBackfills } from './backfill.ts';
import { requireDag } from './dags.ts';
import type { ServiceDeps } from './deps.ts';

export interface RunDetail {
  run: DagRun;
  /** How many of its task instances are in each state. */
  tiCounts: Record<TiState, number>;
}

/** Rounds of re-reading a run's instances after a conditional write lost. */
const MAX_MARK_ROUNDS = 10;

async function listDagRuns(
  deps: ServiceDeps,
  dagId: string,
  query: PageRequest & { states?: RunState[] },
): Promise<Page<DagRun>> {
  await requireDag(deps, dagId);
  return deps.store.listRuns(dagId, query);
}

async function requireRun(deps: ServiceDeps, dagId: string, runId: string): Promise<DagRun> {
  const run = await deps.store.getRun(dagId, runId);
  if (!run) {
    await requireDag(deps, dagId);
    throw new NotFoundError(`DAG ${dagId} has no run ${runId}`);
  }
  return run;
}

function countStates(tis: TaskInstance[]): Record<TiState, number> {
  const counts = Object.fromEntries(TI_STATES.map((s) => [s, 0])) as Record<TiState, number>;
  for (const ti of tis) counts[ti.state] += 1;
  return counts;
}

async function getRunDetail(deps: ServiceDeps, dagId: string, runId: string): Promise<RunDetail> {
  const run = await requireRun(deps, dagId, runId);
  return { run, tiCounts: countStates(await deps.store.listTis(dagId, runId)) };
}

/** Sets the run's state, then settles its task instances accordingly (see core/mark.ts). */
async function markRun(
  deps: ServiceDeps,
  input: { dagId: string; runId: string; state: MarkState; now: number },
): Promise<RunDetail> {
  const { store } = deps;
  let run = await requireRun(deps, input.dagId, input.runId);
  for (let round = 0; run.state !== input.state; round += 1) {
    if (round >= MAX_MARK_ROUNDS) throw new Error(`run ${input.runId} kept changing while it was marked`);
    const patch = { state: input.state, endedAt: input.now, note: `marked ${input.state}` };
    if (await store.updateRun(run.dagId, run.runId, { state: run.state }, patch)) {
      deps.logger.info('run marked', { dagId: run.dagId, runId: run.runId, state: input.state });
      run = { ...run, ...patch };
    } else run = await requireRun(deps, input.dagId, input.runId);
  }
  let tis = await store.listTis(run.dagId, run.runId);
  for (let round = 0; ; round += 1) {
    const plan = planMarkRun({ tis, state: input.state, now: input.now });
    if (plan.transitions.length + plan.endTries.length === 0) break;
    if (round >= MAX_MARK_ROUNDS)
      throw new Error(`run ${input.runId}'s tasks kept changing while it was marked`);
    await store.updateTis(plan.transitions);
    for (const end of plan.endTries) {
      await store.endTry({
        ...end,
        expect: { ...end.expect, state: end.expect.state as 'queued' | 'running' },
      });
    }
    tis = await store.listTis(run.dagId, run.runId);
  }
  // A finished run frees a place under maxActiveRuns (or its backfill's): let the scheduler start the next.
  if (run.backfillId) await completeBackfills(deps, [run], input.now);
  await deps.events.publish([{ type: 'tick', dagId: run.dagId }]);
  return { run, tiCounts: countStates(tis) };
}

export { getRunDetail, listDagRuns, markRun, requireRun };
