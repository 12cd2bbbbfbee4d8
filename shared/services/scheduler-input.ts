/**
 * What wakes the scheduler, turned into one scheduler pass: a batch of scheduler events (task
 * finished, run triggered, DAG registered, pool changed, tick), a DAG's one-shot wake-up, or the
 * sweep. Events about runs make a narrow pass (only those runs are evaluated; claims still look at
 * every pool with free slots); a sweep or a tick for every DAG makes a full one. After the pass, the
 * DAG callbacks of finished runs are run and failed runs are published.
 */
import type { DagRun } from '#core/model.ts';
import type { SchedulerEvent } from '#ports';
import type { RunRef } from './advance-runs.ts';
import type { ServiceDeps } from './deps.ts';
import { type PassOptions, type PassReport, schedulerPass } from './scheduler-pass.ts';

export type SchedulerInput = SchedulerEvent | { type: 'wakeup'; dagId: string } | { type: 'sweep' };

/**
 * Adds one piece of news about a run to `runs` (by `dagId/runId`; duplicates collapse). A run whose
 * only news is task_finished events that name their task is looked at from those tasks' downstream;
 * any other news about it (`ended` absent: a run_triggered, a due retry, an event from an older
 * worker without a task) asks for a whole look.
 */
function addRunNews(
  runs: Map<string, RunRef>,
  news: { dagId: string; runId: string; taskId?: string; dagVersion?: string },
): void {
  const key = `${news.dagId}/${news.runId}`;
  const seen = runs.get(key);
  if (news.taskId === undefined || news.dagVersion === undefined)
    runs.set(key, { dagId: news.dagId, runId: news.runId });
  else if (!seen)
    runs.set(key, {
      dagId: news.dagId,
      runId: news.runId,
      ended: [news.taskId],
      dagVersion: news.dagVersion,
    });
  else if (seen.ended && seen.dagVersion === news.dagVersion) {
    if (!seen.ended.includes(news.taskId)) seen.ended.push(news.taskId);
  } else if (seen.ended) runs.set(key, { dagId: news.dagId, runId: news.runId });
}

/** One pass's options for a batch of inputs (duplicates collapse; runs' news as `addRunNews`). */
function passOptionsFor(inputs: SchedulerInput[], now: number): PassOptions {
  const runs = new Map<string, RunRef>();
  const dagIds = new Set<string>();
  let full = false;
  let sweep = false;
  for (const input of inputs) {
    switch (input.type) {
      case 'run_triggered':
        // A new run is queued: its DAG's queued runs may start.
        dagIds.add(input.dagId);
        addRunNews(runs, { dagId: input.dagId, runId: input.runId });
        break;
      case 'task_finished':
        addRunNews(runs, input);
        break;
      case 'dag_registered':
      case 'wakeup':
        dagIds.add(input.dagId);
        break;
      case 'tick':
        if (input.dagId) dagIds.add(input.dagId);
        else full = true;
        break;
      case 'pool_changed':
        // Claims look at every pool with free slots: nothing to evaluate.
        break;
      case 'sweep':
        full = true;
        sweep = true;
        break;
    }
  }
  // A full pass lists the due DAGs (a capped page): the DAGs woken in this batch get their runs
  // created beside it, not at the next sweep when more DAGs are due than the page holds.
  // A sweep looks only at the runs that need it: the runs with news in its batch are passed on.
  if (full) {
    const options: PassOptions = { now, sweep };
    if (dagIds.size > 0) options.wokenDagIds = [...dagIds];
    if (sweep && runs.size > 0) options.runs = [...runs.values()];
    return options;
  }
  return { now, runs: [...runs.values()], dagIds: [...dagIds], dags: [...dagIds] };
}

/** Runs a finished run's DAG callback (onSuccess / onFailure); its errors are logged and go no further. */
async function runDagCallback(deps: ServiceDeps, run: DagRun): Promise<void> {
  if (!deps.runtimes || (run.state !== 'success' && run.state !== 'failed')) return;
  const name = run.state === 'success' ? 'onSuccess' : 'onFailure';
  try {
    const dag = await deps.manifests.get(run.dagId, run.dagVersion);
    if (!dag.callbacks.includes(name)) return;
    const runtime = await deps.runtimes.runtime(run.dagId, run.dagVersion);
    const fn = runtime?.dagCallbacks()[name];
    if (!fn)
      return deps.logger.warn('DAG callback not found in its bundle', { dagId: run.dagId, callback: name });
    await fn({
      dagId: run.dagId,
      runId: run.runId,
      state: run.state,
      logicalDate: new Date(run.logicalDate),
      dataIntervalStart: new Date(run.dataIntervalStart),
      dataIntervalEnd: new Date(run.dataIntervalEnd),
      conf: { ...run.conf },
      note: run.note,
    });
  } catch (error) {
    deps.logger.error('DAG callback failed', {
      dagId: run.dagId,
      runId: run.runId,
      callback: name,
      error: String(error),
    });
  }
}

async function afterRunFinished(deps: ServiceDeps, run: DagRun, now: number): Promise<void> {
  await runDagCallback(deps, run);
  if (run.state !== 'failed' || !deps.notifier) return;
  try {
    await deps.notifier.publish({
      type: 'run_failed',
      dagId: run.dagId,
      runId: run.runId,
      note: run.note,
      at: now,
    });
  } catch (error) {
    deps.logger.error('run failure not published', {
      dagId: run.dagId,
      runId: run.runId,
      error: String(error),
    });
  }
}

/** One scheduler invocation: the pass for `inputs`, then what finished runs call for. */
async function runScheduler(deps: ServiceDeps, inputs: SchedulerInput[], now: number): Promise<PassReport> {
  const report = await schedulerPass(deps, passOptionsFor(inputs, now));
  for (const run of report.advance.runsFinished) await afterRunFinished(deps, run, now);
  return report;
}

export { passOptionsFor, runScheduler };
