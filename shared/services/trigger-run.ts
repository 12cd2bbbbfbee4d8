/** Manual runs (Airflow's "trigger DAG w/ config"). */
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { DagRun } from '#core/model.ts';
import { makeTaskInstances, runIdFor } from '#core/runs.ts';
import { timetableFor } from '#core/timetable.ts';
import { newRun } from './create-runs.ts';
import type { ServiceDeps } from './deps.ts';

async function triggerRun(
  deps: ServiceDeps,
  input: { dagId: string; now: number; conf?: Record<string, unknown>; logicalDate?: number; runId?: string },
): Promise<DagRun> {
  const record = await deps.store.getDag(input.dagId);
  if (!record?.active) throw new NotFoundError(`DAG ${input.dagId} not found`);
  const dag = await deps.manifests.get(record.dagId, record.currentVersion);
  const info = timetableFor(dag.schedule).manualRunInfo(input.logicalDate ?? input.now);
  const runId = input.runId ?? runIdFor('manual', info.logicalDate);
  const run = newRun(
    dag,
    { ...info, runAfter: input.now },
    { runType: 'manual', now: input.now, conf: input.conf, runId },
  );
  const { created } = await deps.store.createRun(run, makeTaskInstances(dag, run));
  if (!created) throw new ConflictError(`run ${runId} of DAG ${input.dagId} already exists`);
  await deps.events.publish([{ type: 'run_triggered', dagId: run.dagId, runId: run.runId }]);
  return run;
}

export { triggerRun };
