/**
 * The gantt of a run: a row per task instance, from the moment it became ready (scheduled) through
 * the wait for a slot (queued) to its run (colored by state). Long waits stand out at once: they are
 * the pool or limit that held the run back.
 */
import type { Run, Task, TaskInstance } from '../api/types.ts';
import { formatDuration, formatTime, ms } from '../lib/format.ts';
import { tiStyle } from '../lib/states.ts';

function ticks(start: number, end: number, count: number): number[] {
  const span = Math.max(1, end - start);
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400].map(
    (s) => s * 1000,
  );
  const step = steps.find((s) => span / s <= count) ?? span / count;
  const first = Math.ceil(start / step) * step;
  const out: number[] = [];
  for (let t = first; t <= end; t += step) out.push(t);
  return out;
}

interface GanttProps {
  run: Run | undefined;
  tasks: Task[];
  tis: TaskInstance[] | undefined;
  selectedTask: string | null;
  onSelectTask: (taskId: string) => void;
}

function Gantt({ run, tasks, tis, selectedTask, onSelectTask }: GanttProps) {
  if (!run) return <p className="muted">Select a run in the grid to see its gantt.</p>;
  const now = Date.now();
  const order = new Map(tasks.map((t, i) => [t.taskId, i]));
  const rows = [...(tis ?? [])].sort(
    (a, b) => (order.get(a.taskId) ?? 0) - (order.get(b.taskId) ?? 0) || a.mapIndex - b.mapIndex,
  );
  const times = rows.flatMap((ti) =>
    [ti.scheduledAt, ti.queuedAt, ti.startedAt, ti.endedAt].map(ms).filter((t): t is number => t !== null),
  );
  const runStart = ms(run.startedAt);
  if (runStart !== null) times.push(runStart);
  if (times.length === 0)
    return (
      <p className="muted">Nothing has started in this run yet: its task instances wait for their turn.</p>
    );
  const start = Math.min(...times);
  const end = Math.max(
    ms(run.endedAt) ?? (run.state === 'running' || run.state === 'queued' ? now : 0),
    ...times,
  );
  const span = Math.max(1000, end - start);
  const pct = (t: number) => `${(((t - start) / span) * 100).toFixed(3)}%`;
  const width = (a: number, b: number) => `${Math.max(0.4, ((b - a) / span) * 100).toFixed(3)}%`;

  return (
    <section className="gantt" aria-label={`Gantt of ${run.runId}`}>
      <div className="gantt-axis">
        <span className="gantt-label" />
        <div className="gantt-track">
          {ticks(start, end, 6).map((t) => (
            <span key={t} className="tick" style={{ left: pct(t) }}>
              {formatTime(t)}
            </span>
          ))}
        </div>
      </div>
      {rows.map((ti) => {
        const scheduled = ms(ti.scheduledAt);
        const queued = ms(ti.queuedAt);
        const started = ms(ti.startedAt);
        const ended = ms(ti.endedAt) ?? (started !== null ? now : null);
        const s = tiStyle(ti.state);
        const id = ti.mapIndex >= 0 ? `${ti.taskId}[${ti.mapIndex}]` : ti.taskId;
        const waitEnd = started ?? (ti.state === 'queued' || ti.state === 'scheduled' ? now : null);
        return (
          <button
            type="button"
            key={`${ti.taskId}:${ti.mapIndex}`}
            className={`gantt-row${ti.taskId === selectedTask ? ' selected' : ''}`}
            onClick={() => onSelectTask(ti.taskId)}
            data-task={ti.taskId}
          >
            <span className="gantt-label" title={id}>
              {id}
            </span>
            <span className="gantt-track">
              {scheduled !== null && (queued ?? waitEnd) !== null && (
                <span
                  className="seg scheduled"
                  style={{ left: pct(scheduled), width: width(scheduled, (queued ?? waitEnd)!) }}
                  title={`waiting for a slot: ${formatDuration((queued ?? waitEnd)! - scheduled)}`}
                />
              )}
              {queued !== null && waitEnd !== null && (
                <span
                  className="seg queued"
                  style={{ left: pct(queued), width: width(queued, waitEnd) }}
                  title={`queued (sent to a worker): ${formatDuration(waitEnd - queued)}`}
                />
              )}
              {started !== null && ended !== null && (
                <span
                  className={`seg run${ti.state === 'running' ? ' pulse' : ''}`}
                  style={{ left: pct(started), width: width(started, ended), background: s.color }}
                  title={`${s.label}: ran ${formatDuration(ended - started)}`}
                />
              )}
              {started !== null && ended !== null && (
                <span className="seg-label" style={{ left: `calc(${pct(ended)} + 4px)` }}>
                  {formatDuration(ended - started)}
                </span>
              )}
            </span>
          </button>
        );
      })}
      <p className="gantt-key muted">
        <span className="seg-key scheduled" /> ready, waiting for a slot <span className="seg-key queued" />{' '}
        queued for a worker <span className="seg-key run" /> running (colored by its state)
      </p>
    </section>
  );
}

export { Gantt };
