/**
 * A DAG: header (schedule, next run, paused, trigger, backfill), the grid / graph / gantt / backfills /
 * tasks views on the left, the selected run or task instance on the right (below, on a phone).
 * Everything selected is in the URL, so a view is a link.
 */
import { useState } from 'react';
import { seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { DagDetail, Task } from '../api/types.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { Legend } from '../components/state.tsx';
import { PauseToggle, usePauseDag } from '../components/toggle.tsx';
import { BackfillDialog } from '../dialogs/backfill.tsx';
import { ClearDialog } from '../dialogs/clear.tsx';
import { TriggerDialog } from '../dialogs/trigger.tsx';
import { formatDuration, formatRelative, formatShort, formatUtc } from '../lib/format.ts';
import { usePoll } from '../lib/poll.ts';
import { href, type Route, updateParams } from '../lib/router.ts';
import { BackfillsTab } from './backfills.tsx';
import { type GridData, useGridFetcher } from './dag-data.ts';
import { Gantt } from './gantt.tsx';
import { DagGraph } from './graph.tsx';
import { Grid } from './grid.tsx';
import { RunPanel } from './run-panel.tsx';
import { TaskInstancePanel } from './ti-panel.tsx';

const TABS = ['grid', 'graph', 'gantt', 'backfills', 'tasks'] as const;
type Tab = (typeof TABS)[number];
const RUN_LIMITS = [25, 50, 100];

function TasksTable({ tasks }: { tasks: Task[] }) {
  return (
    <table className="tasks-table responsive">
      <thead>
        <tr>
          <th>Task</th>
          <th>Operator</th>
          <th>Pool</th>
          <th>Priority</th>
          <th>Trigger rule</th>
          <th>Retries</th>
          <th>Upstream</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((t) => (
          <tr key={t.taskId}>
            <td>
              <strong>{t.taskId}</strong>
              {t.doc && <span className="sub">{t.doc}</span>}
            </td>
            <td data-label="Operator">
              {t.kind} <span className="muted">on {t.executor}</span>
            </td>
            <td data-label="Pool">
              {t.pool} · {t.poolSlots}
            </td>
            <td data-label="Priority" title={`weight ${t.priorityWeight}, rule ${t.weightRule}`}>
              {t.priorityWeightTotal}
            </td>
            <td data-label="Trigger rule">{t.triggerRule}</td>
            <td data-label="Retries">
              {t.retries}
              {t.retries > 0 && <span className="muted"> · {formatDuration(t.retryDelayMs)}</span>}
            </td>
            <td data-label="Upstream">{t.upstream.join(', ') || <span className="muted">–</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DagHeader({
  dag,
  onChanged,
  onTrigger,
  onBackfill,
}: {
  dag: DagDetail;
  onChanged: () => void;
  onTrigger: () => void;
  onBackfill: () => void;
}) {
  const { busy, error, setPaused } = usePauseDag(dag.dagId, onChanged);
  return (
    <div className="dag-head">
      <div className="title-row">
        <PauseToggle paused={dag.paused} busy={busy} onChange={setPaused} label={`Schedule ${dag.dagId}`} />
        <h1>{dag.dagId}</h1>
        {dag.paused && <span className="tag">paused</span>}
        {dag.tags.map((t) => (
          <a key={t} className="tag" href={href([], { tag: t })}>
            {t}
          </a>
        ))}
        <span className="spacer" />
        <button type="button" onClick={onBackfill}>
          Backfill…
        </button>
        <button type="button" className="primary" onClick={onTrigger}>
          ▶ Trigger
        </button>
      </div>
      {dag.description && <p className="muted">{dag.description}</p>}
      <dl className="inline-facts">
        <div>
          <dt>Schedule</dt>
          <dd>
            {dag.schedule?.description ?? 'unknown'}
            {dag.schedule?.expression && <code> {dag.schedule.expression}</code>}
          </dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd
            title={
              dag.nextRun
                ? `data interval ${formatUtc(dag.nextRun.dataIntervalStart)} → ${formatUtc(dag.nextRun.dataIntervalEnd)}`
                : undefined
            }
          >
            {dag.paused
              ? 'paused'
              : dag.nextRun
                ? `${formatRelative(dag.nextRun.runAfter)} (${formatShort(dag.nextRun.runAfter)})`
                : 'none due'}
          </dd>
        </div>
        <div>
          <dt>Limits</dt>
          <dd>
            {dag.maxActiveRuns ?? '–'} runs · {dag.maxActiveTasks ?? '–'} tasks at once
          </dd>
        </div>
        <div>
          <dt>Catchup</dt>
          <dd>{dag.catchup ? 'on' : 'off'}</dd>
        </div>
        {dag.fileloc && (
          <div>
            <dt>File</dt>
            <dd>
              <code>{dag.fileloc}</code>
            </dd>
          </div>
        )}
      </dl>
      {dag.importError && (
        <div className="notice error">
          <strong>The DAG file failed to load; runs use the last good version.</strong>
          <pre>{dag.importError.message}</pre>
        </div>
      )}
      {dag.warnings.length > 0 && (
        <ul className="notice warn">
          {dag.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      {error && <ErrorNotice error={error} compact />}
    </div>
  );
}

type DialogState =
  | { kind: 'trigger' }
  | { kind: 'backfill' }
  | { kind: 'clear'; runId: string; taskIds: string[]; onlyFailed?: boolean; title?: string }
  | null;

function DagPage({ dagId, route }: { dagId: string; route: Route }) {
  const api = useApi();
  const tabParam = route.params.get('tab');
  const tab: Tab = TABS.includes(tabParam as Tab) ? (tabParam as Tab) : 'grid';
  const taskParam = route.params.get('task');
  const [dialog, setDialog] = useState<DialogState>(null);

  const detail = usePoll<DagDetail>(`dag:${dagId}`, () => api.get(`/dags/${seg(dagId)}`), 5000);
  const runsParam = Number(route.params.get('runs'));
  const limit = RUN_LIMITS.includes(runsParam) ? runsParam : 25;
  const fetchGrid = useGridFetcher(api, dagId, limit);
  const grid = usePoll<GridData>(`grid:${dagId}:${limit}`, fetchGrid, 2500);

  const runs = grid.data?.runs ?? [];
  const runParam = route.params.get('run');
  const run = runs.find((r) => r.runId === runParam) ?? (runParam ? undefined : runs.at(-1));
  const runId = runParam ?? run?.runId ?? null;
  const runTis = runId ? grid.data?.tis.get(runId) : undefined;
  const refreshAll = () => {
    void grid.refresh();
    void detail.refresh();
  };

  if (detail.error && !detail.data)
    return (
      <main className="page">
        <p>
          <a href={href([])}>← DAGs</a>
        </p>
        <ErrorNotice error={detail.error} onRetry={detail.refresh} />
      </main>
    );
  const dag = detail.data;
  const tasks = dag?.tasks ?? [];
  const select = (changes: Record<string, string | null>) => updateParams(route, changes);
  const showTi = runId !== null && taskParam !== null;
  // The run panel opens for a run picked in the grid (or just triggered); the views show the latest otherwise.
  const showRunPanel = runParam !== null && run !== undefined;

  return (
    <main className="page dag-page">
      <nav className="crumbs">
        <a href={href([])}>DAGs</a> / <span>{dagId}</span>
      </nav>
      {dag ? (
        <DagHeader
          dag={dag}
          onChanged={refreshAll}
          onTrigger={() => setDialog({ kind: 'trigger' })}
          onBackfill={() => setDialog({ kind: 'backfill' })}
        />
      ) : (
        <p className="muted">Loading {dagId}…</p>
      )}
      <div className="tabs" role="tablist" aria-label="Views">
        {TABS.map((t) => (
          <button
            type="button"
            role="tab"
            key={t}
            aria-selected={tab === t}
            className={tab === t ? 'active' : ''}
            onClick={() => select({ tab: t === 'grid' ? null : t })}
          >
            {t === 'tasks' ? `tasks (${tasks.length})` : t}
          </button>
        ))}
        <span className="spacer" />
        {run && (tab === 'graph' || tab === 'gantt') && (
          <label className="run-picker">
            run{' '}
            <select value={run.runId} onChange={(e) => select({ run: e.target.value })} aria-label="Run">
              {[...runs].reverse().map((r) => (
                <option key={r.runId} value={r.runId}>
                  {formatShort(r.logicalDate)} · {r.state} · {r.runType}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {grid.error && <ErrorNotice error={grid.error} onRetry={grid.refresh} compact />}
      <div className={`split${showTi || showRunPanel ? ' with-panel' : ''}`}>
        <section className="main-pane">
          {tab === 'grid' && (
            <>
              <Grid
                runs={runs}
                tasks={tasks}
                tis={grid.data?.tis ?? new Map()}
                selectedRun={runParam ?? (taskParam ? runId : null)}
                selectedTask={taskParam}
                onSelectRun={(id) => select({ run: id, task: null })}
                onSelectTi={(r, t) => select({ run: r, task: t })}
                onSelectTask={(t) => select({ task: t })}
                limit={limit}
                onLimit={(n) => select({ runs: n === 25 ? null : String(n) })}
              />
              <Legend />
            </>
          )}
          {tab === 'graph' && (
            <>
              <DagGraph
                tasks={tasks}
                tis={runTis}
                selectedTask={taskParam}
                onSelectTask={(t) => select({ task: t, run: runId })}
              />
              <Legend />
            </>
          )}
          {tab === 'gantt' && (
            <Gantt
              run={run}
              tasks={tasks}
              tis={runTis}
              selectedTask={taskParam}
              onSelectTask={(t) => select({ task: t, run: runId })}
            />
          )}
          {tab === 'backfills' && (
            <BackfillsTab dagId={dagId} onNew={() => setDialog({ kind: 'backfill' })} />
          )}
          {tab === 'tasks' && <TasksTable tasks={tasks} />}
        </section>
        {(showTi || showRunPanel) && (
          <aside className="side-pane">
            {showTi ? (
              <TaskInstancePanel
                key={`${runId}:${taskParam}`}
                dagId={dagId}
                runId={runId!}
                taskId={taskParam!}
                onClear={(t) => setDialog({ kind: 'clear', runId: runId!, taskIds: [t] })}
                onClose={() => select({ task: null })}
              />
            ) : (
              run && (
                <RunPanel
                  run={run}
                  tis={runTis}
                  onChanged={refreshAll}
                  onClearFailed={() =>
                    setDialog({
                      kind: 'clear',
                      runId: run.runId,
                      taskIds: tasks.map((t) => t.taskId),
                      onlyFailed: true,
                      title: 'Clear the failed task instances',
                    })
                  }
                  onClearAll={() =>
                    setDialog({
                      kind: 'clear',
                      runId: run.runId,
                      taskIds: tasks.map((t) => t.taskId),
                      title: 'Clear the whole run',
                    })
                  }
                  onClose={() => select({ run: null })}
                />
              )
            )}
          </aside>
        )}
      </div>
      {dialog?.kind === 'trigger' && (
        <TriggerDialog
          dagId={dagId}
          onClose={() => setDialog(null)}
          onTriggered={(r) => {
            setDialog(null);
            select({ run: r.runId, task: null });
            void grid.refresh();
          }}
        />
      )}
      {dialog?.kind === 'backfill' && (
        <BackfillDialog
          dagId={dagId}
          onClose={() => {
            setDialog(null);
            void grid.refresh();
          }}
        />
      )}
      {dialog?.kind === 'clear' && (
        <ClearDialog
          dagId={dagId}
          runId={dialog.runId}
          taskIds={dialog.taskIds}
          title={dialog.title}
          defaults={{ onlyFailed: dialog.onlyFailed, includeDownstream: !dialog.onlyFailed }}
          onClose={() => setDialog(null)}
          onCleared={() => void grid.refresh()}
        />
      )}
    </main>
  );
}

export { DagPage };
