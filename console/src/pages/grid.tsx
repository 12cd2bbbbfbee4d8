/**
 * The grid: one column per run (oldest left), one row per task (in the DAG's order), each cell the
 * task instance's state. The bar above a column is its run: height by duration, color by state.
 */
import type { Run, Task, TaskInstance } from '../api/types.ts';
import { formatDateTime, formatDuration, formatShort, ms } from '../lib/format.ts';
import { cellState, isFinishedTi, runStyle, tiStyle } from '../lib/states.ts';

function runDuration(run: Run, now: number): number {
  const start = ms(run.startedAt);
  if (start === null) return 0;
  return (ms(run.endedAt) ?? now) - start;
}

interface GridProps {
  runs: Run[];
  tasks: Task[];
  tis: Map<string, TaskInstance[]>;
  selectedRun: string | null;
  selectedTask: string | null;
  onSelectRun: (runId: string) => void;
  onSelectTi: (runId: string, taskId: string) => void;
  onSelectTask: (taskId: string) => void;
  limit: number;
  onLimit: (limit: number) => void;
}

function Grid({
  runs,
  tasks,
  tis,
  selectedRun,
  selectedTask,
  onSelectRun,
  onSelectTi,
  onSelectTask,
  limit,
  onLimit,
}: GridProps) {
  const now = Date.now();
  const longest = Math.max(1, ...runs.map((r) => runDuration(r, now)));
  const byTask = new Map<string, Map<string, TaskInstance[]>>();
  for (const [runId, list] of tis) {
    const m = new Map<string, TaskInstance[]>();
    for (const ti of list) m.set(ti.taskId, [...(m.get(ti.taskId) ?? []), ti]);
    byTask.set(runId, m);
  }
  if (runs.length === 0)
    return (
      <p className="muted empty-grid">
        No runs yet. Trigger one, or unpause the DAG to let its schedule create them.
      </p>
    );
  return (
    <div className="grid-scroll">
      <table className="grid" aria-label="Runs and task instances">
        <thead>
          <tr>
            <th className="task-col">
              <label className="muted runs-limit">
                latest{' '}
                <select
                  value={limit}
                  onChange={(e) => onLimit(Number(e.target.value))}
                  aria-label="Runs shown"
                >
                  {[25, 50, 100].map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>{' '}
                runs
              </label>
            </th>
            {runs.map((run) => {
              const s = runStyle(run.state);
              const height = Math.max(6, Math.round((runDuration(run, now) / longest) * 64));
              return (
                <th key={run.runId} className={`run-col${run.runId === selectedRun ? ' selected' : ''}`}>
                  <button
                    type="button"
                    className="run-bar-button"
                    onClick={() => onSelectRun(run.runId)}
                    title={`${run.runId}\n${s.label} · ${run.runType}\nlogical date ${formatDateTime(run.logicalDate)}\nduration ${formatDuration(runDuration(run, now))}`}
                    aria-label={`Run ${run.runId}: ${s.label}`}
                    data-run={run.runId}
                    data-state={run.state}
                  >
                    <span
                      className={`run-bar${run.state === 'running' ? ' pulse' : ''}`}
                      style={{ height, background: s.color }}
                    />
                    {run.runType !== 'scheduled' && (
                      <span className="run-type" title={run.runType}>
                        {run.runType === 'manual' ? 'M' : 'B'}
                      </span>
                    )}
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {tasks.map((task) => (
            <tr key={task.taskId} className={task.taskId === selectedTask ? 'selected' : ''}>
              <th className="task-col" scope="row">
                <button
                  type="button"
                  className="link task-name"
                  onClick={() => onSelectTask(task.taskId)}
                  title={task.taskId}
                >
                  {task.taskId}
                </button>
              </th>
              {runs.map((run) => {
                const list = byTask.get(run.runId)?.get(task.taskId);
                const state = cellState(list);
                const selected = run.runId === selectedRun && task.taskId === selectedTask;
                const style = state ? tiStyle(state) : null;
                const why = list?.length === 1 ? list[0]!.waitReasonText : null;
                const label = `${task.taskId} in ${formatShort(run.logicalDate)}: ${style?.label ?? 'not in this run'}${list && list.length > 1 ? ` (${list.length} mapped)` : ''}${why && state && !isFinishedTi(state) ? ` — ${why}` : ''}`;
                return (
                  <td key={run.runId} className={run.runId === selectedRun ? 'selected-col' : ''}>
                    {state ? (
                      <button
                        type="button"
                        className={`cell state-${state}${selected ? ' selected' : ''}${state === 'running' ? ' pulse' : ''}`}
                        style={state === 'none' ? undefined : { background: style!.color }}
                        title={label}
                        aria-label={label}
                        data-task={task.taskId}
                        data-run={run.runId}
                        data-state={state}
                        onClick={() => onSelectTi(run.runId, task.taskId)}
                      />
                    ) : (
                      <span className="cell absent" title={label} />
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export { Grid };
