/**
 * Steps 2 and 3 of a scheduler pass: start queued runs under maxActiveRuns (a backfill under its own
 * limit), then evaluate running runs: trigger rules, due retries and reschedules, run completion.
 */
import { evaluateRun } from '#core/evaluate-run.ts';
import type { DagRecord, DagRun, TaskInstance } from '#core/model.ts';
import { planRunStarts } from '#core/runs.ts';
import { isRunFinished } from '#core/states.ts';
import { allPages, type ServiceDeps } from './deps.ts';

export interface AdvanceReport {
  runsStarted: number;
  runsFinished: DagRun[];
  tisChanged: number;
  /** Runs whose evaluation lost a race: they are looked at again on the next pass. */
  runsRetry: number;
  /** Pools of task instances that became scheduled. */
  poolsTouched: Set<string>;
  /** The task instances that became scheduled, as written (so the claim step can say why they wait unread). */
  scheduled: TaskInstance[];
  /** The DAG records this step read, for the rest of the pass. */
  dags: Map<string, DagRecord>;
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
  report: Pick<AdvanceReport, 'poolsTouched' | 'scheduled'>,
): Promise<{ changed: number; finished: DagRun | null; lostRace: boolean }> {
  const dag = await deps.manifests.get(run.dagId, run.dagVersion);
  const tis = await deps.store.listTis(run.dagId, run.runId);
  const evaluation = evaluateRun({ dag, run, tis, now });
  // Most looks at a run change nothing (a sweep looks at every run): no write is made for them.
  const { applied, lost } =
    evaluation.transitions.length > 0
      ? await deps.store.updateTis(evaluation.transitions)
      : { applied: [], lost: [] };
  if (evaluation.transitions.some((t) => t.set.state === 'scheduled')) {
    const byTask = new Map(tis.map((ti) => [ti.taskId, ti]));
    const done = new Set(applied.map((key) => key.taskId));
    for (const t of evaluation.transitions) {
      const ti = byTask.get(t.key.taskId);
      if (t.set.state !== 'scheduled' || !ti) continue;
      report.poolsTouched.add(ti.pool);
      if (done.has(ti.taskId)) report.scheduled.push({ ...ti, ...t.set });
    }
  }
  if (evaluation.waits.length > 0) await deps.store.setWaitReasons(evaluation.waits);
  if (lost.length > 0 || !evaluation.finish)
    return { changed: applied.length, finished: null, lostRace: lost.length > 0 };
  const patch = { state: evaluation.finish.state, endedAt: now, note: evaluation.finish.note };
  const ok = await deps.store.updateRun(run.dagId, run.runId, { state: 'running' }, patch);
  return { changed: applied.length, finished: ok ? { ...run, ...patch } : null, lostRace: !ok };
}

type RunRef = { dagId: string; runId: string };

const byLogicalDate = (a: DagRun, b: DagRun) =>
  a.logicalDate - b.logicalDate || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);

/**
 * The unfinished runs an event-driven pass acts on, grouped by DAG in scope order. Runs with news
 * are read by key; a DAG's unfinished runs are listed only where queued runs may start — the DAGs
 * of `dags` and those of runs still queued. (A task finishing frees no maxActiveRuns slot: a run
 * finishing does, and the pass then advances its DAG in `dags`.)
 */
async function unfinishedInScope(deps: ServiceDeps, scope: { runs: RunRef[]; dags?: string[] }) {
  const refs = new Map(scope.runs.map((r) => [`${r.dagId}/${r.runId}`, r]));
  const read = await Promise.all([...refs.values()].map((r) => deps.store.getRun(r.dagId, r.runId)));
  const listedDags = new Set(scope.dags ?? []);
  for (const run of read) if (run?.state === 'queued') listedDags.add(run.dagId);
  const byDag = new Map<string, DagRun[]>();
  for (const dagId of [...scope.runs.map((r) => r.dagId), ...(scope.dags ?? [])]) byDag.set(dagId, []);
  const listed = await Promise.all(
    [...listedDags].map((dagId) => allPages((cursor) => deps.store.listUnfinishedRuns({ dagId, cursor }))),
  );
  for (const runs of listed) for (const run of runs) byDag.get(run.dagId)?.push(run);
  for (const run of read) {
    if (run && !listedDags.has(run.dagId) && !isRunFinished(run.state)) byDag.get(run.dagId)?.push(run);
  }
  for (const [dagId, runs] of byDag) if (!listedDags.has(dagId)) runs.sort(byLogicalDate);
  return [...byDag.values()].flat();
}

/**
 * Steps 2 and 3. With a scope (event-driven passes), only the DAGs with news are read — those of
 * `runs` and `dags` — and only `runs` and newly started runs are evaluated; without one, every
 * unfinished run of every DAG (the sweep).
 */
async function advanceRuns(
  deps: ServiceDeps,
  now: number,
  scope?: { runs: RunRef[]; dags?: string[] },
): Promise<AdvanceReport> {
  const unfinished = scope
    ? await unfinishedInScope(deps, scope)
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
    scheduled: [],
    dags,
  };
  for (const run of running) {
    // Task instances of a paused DAG's runs are neither scheduled nor queued (Airflow's `NOT dag.is_paused`).
    if (dags.get(run.dagId)?.paused) continue;
    const result = await evaluateOneRun(deps, run, now, report);
    report.tisChanged += result.changed;
    if (result.finished) report.runsFinished.push(result.finished);
    if (result.lostRace) report.runsRetry += 1;
  }
  return report;
}

export { advanceRuns, evaluateOneRun };
