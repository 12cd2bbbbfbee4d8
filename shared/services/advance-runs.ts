/**
 * Steps 2 and 3 of a scheduler pass: start queued runs under maxActiveRuns (a backfill under its own
 * limit), then evaluate running runs: trigger rules, due retries and reschedules, run completion.
 */
import { evaluateRun } from '#core/evaluate-run.ts';
import type { DagRecord, DagRun } from '#core/model.ts';
import { planRunStarts } from '#core/runs.ts';
import { allPages, type ServiceDeps } from './deps.ts';

export interface AdvanceReport {
  runsStarted: number;
  runsFinished: DagRun[];
  tisChanged: number;
  /** Runs whose evaluation lost a race: they are looked at again on the next pass. */
  runsRetry: number;
  /** Pools of task instances that became scheduled (so a missing pool gets its wait reason at once). */
  poolsTouched: Set<string>;
}

async function loadDags(deps: ServiceDeps, dagIds: Iterable<string>): Promise<Map<string, DagRecord>> {
  const ids = [...new Set(dagIds)];
  const records = await Promise.all(ids.map((id) => deps.store.getDag(id)));
  const out = new Map<string, DagRecord>();
  for (const record of records) if (record) out.set(record.dagId, record);
  return out;
}

async function startQueuedRuns(
  deps: ServiceDeps,
  unfinished: DagRun[],
  dags: Map<string, DagRecord>,
  now: number,
): Promise<DagRun[]> {
  const queued = unfinished.filter((r) => r.state === 'queued' && !dags.get(r.dagId)?.paused);
  if (queued.length === 0) return [];
  const runningByDag = new Map<string, number>();
  const runningByBackfill = new Map<string, number>();
  for (const run of unfinished) {
    if (run.state !== 'running') continue;
    if (run.backfillId)
      runningByBackfill.set(run.backfillId, (runningByBackfill.get(run.backfillId) ?? 0) + 1);
    else runningByDag.set(run.dagId, (runningByDag.get(run.dagId) ?? 0) + 1);
  }
  const maxActiveRunsByDag = new Map<string, number>();
  for (const run of queued) {
    const record = dags.get(run.dagId);
    if (!record || maxActiveRunsByDag.has(run.dagId)) continue;
    const dag = await deps.manifests.get(run.dagId, record.currentVersion);
    maxActiveRunsByDag.set(run.dagId, dag.maxActiveRuns);
  }
  const maxActiveRunsByBackfill = new Map<string, number>();
  for (const id of new Set(queued.map((r) => r.backfillId).filter((id): id is string => id !== null))) {
    const backfill = await deps.store.getBackfill(id);
    maxActiveRunsByBackfill.set(id, backfill && !backfill.cancelledAt ? backfill.maxActiveRuns : 0);
  }
  const toStart = planRunStarts({
    queued,
    runningByDag,
    runningByBackfill,
    maxActiveRunsByDag,
    maxActiveRunsByBackfill,
    now,
  });
  const started: DagRun[] = [];
  for (const run of toStart) {
    const ok = await deps.store.updateRun(
      run.dagId,
      run.runId,
      { state: 'queued' },
      { state: 'running', startedAt: now },
    );
    if (ok) started.push({ ...run, state: 'running', startedAt: now });
  }
  return started;
}

/** Evaluates one running run and applies what the core decided, each change conditionally. */
async function evaluateOneRun(
  deps: ServiceDeps,
  run: DagRun,
  now: number,
  poolsTouched: Set<string>,
): Promise<{ changed: number; finished: DagRun | null; lostRace: boolean }> {
  const dag = await deps.manifests.get(run.dagId, run.dagVersion);
  const tis = await deps.store.listTis(run.dagId, run.runId);
  const evaluation = evaluateRun({ dag, run, tis, now });
  const { applied, lost } = await deps.store.updateTis(evaluation.transitions);
  const poolOf = new Map(tis.map((ti) => [ti.taskId, ti.pool]));
  for (const t of evaluation.transitions) {
    const pool = poolOf.get(t.key.taskId);
    if (t.set.state === 'scheduled' && pool) poolsTouched.add(pool);
  }
  await deps.store.setWaitReasons(evaluation.waits);
  if (lost.length > 0 || !evaluation.finish)
    return { changed: applied.length, finished: null, lostRace: lost.length > 0 };
  const patch = { state: evaluation.finish.state, endedAt: now, note: evaluation.finish.note };
  const ok = await deps.store.updateRun(run.dagId, run.runId, { state: 'running' }, patch);
  return { changed: applied.length, finished: ok ? { ...run, ...patch } : null, lostRace: !ok };
}

/**
 * Steps 2 and 3. With a scope (event-driven passes), only the DAGs with news are read — those of
 * `runs` and `dags` — and only `runs` and newly started runs are evaluated; without one, every
 * unfinished run of every DAG (the sweep).
 */
async function advanceRuns(
  deps: ServiceDeps,
  now: number,
  scope?: { runs: { dagId: string; runId: string }[]; dags?: string[] },
): Promise<AdvanceReport> {
  const unfinished = scope
    ? (
        await Promise.all(
          [...new Set([...scope.runs.map((r) => r.dagId), ...(scope.dags ?? [])])].map((dagId) =>
            allPages((cursor) => deps.store.listUnfinishedRuns({ dagId, cursor })),
          ),
        )
      ).flat()
    : await allPages((cursor) => deps.store.listUnfinishedRuns({ cursor }));
  const wanted = scope ? new Set(scope.runs.map((r) => `${r.dagId}/${r.runId}`)) : null;
  const isWanted = (r: DagRun) => !wanted || wanted.has(`${r.dagId}/${r.runId}`);
  // Only the DAGs this pass acts on are read: those with queued runs and those of the runs it evaluates.
  const dags = await loadDags(
    deps,
    unfinished
      .filter((r) => r.state === 'queued' || (r.state === 'running' && isWanted(r)))
      .map((r) => r.dagId),
  );
  const started = await startQueuedRuns(deps, unfinished, dags, now);
  const running = [...unfinished.filter((r) => r.state === 'running' && isWanted(r)), ...started];

  const report: AdvanceReport = {
    runsStarted: started.length,
    runsFinished: [],
    tisChanged: 0,
    runsRetry: 0,
    poolsTouched: new Set(),
  };
  for (const run of running) {
    // Task instances of a paused DAG's runs are neither scheduled nor queued (Airflow's `NOT dag.is_paused`).
    if (dags.get(run.dagId)?.paused) continue;
    const result = await evaluateOneRun(deps, run, now, report.poolsTouched);
    report.tisChanged += result.changed;
    if (result.finished) report.runsFinished.push(result.finished);
    if (result.lostRace) report.runsRetry += 1;
  }
  return report;
}

export { advanceRuns, evaluateOneRun };
