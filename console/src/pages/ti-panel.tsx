/**
 * One task instance: its state and why it waits (in words), the timeline scheduled → queued →
 * running → ended, its tries (how each ended, when, where, its error) with the log of each, its
 * result or error, and Clear.
 */
import { useEffect, useRef, useState } from 'react';
import { seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { LogLine, TaskInstanceDetail } from '../api/types.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { TiBadge } from '../components/state.tsx';
import { formatDateTime, formatDuration, formatRelative, formatUtc, ms } from '../lib/format.ts';
import { usePoll } from '../lib/poll.ts';
import { isFinishedTi, tiStyle } from '../lib/states.ts';
import { allPages } from './dag-data.ts';

/** Every try the instance keeps: how it ended, when, how long, where, and its error (cut short). */
function Tries({ tries }: { tries: TaskInstanceDetail['tries'] }) {
  if (tries.length < 2 && !tries.some((t) => t.error)) return null;
  return (
    <table className="tries holders" aria-label="Tries">
      <thead>
        <tr>
          <th>Try</th>
          <th>Ended as</th>
          <th>Started</th>
          <th>Took</th>
          <th>Worker</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {tries.map((t) => (
          <tr key={t.tryNumber}>
            <td>{t.tryNumber}</td>
            <td>{t.state ? <TiBadge state={t.state} /> : <span className="muted">not kept</span>}</td>
            <td title={formatUtc(t.startedAt)}>{t.startedAt ? formatDateTime(t.startedAt) : '–'}</td>
            <td>{t.durationMs === null ? '–' : formatDuration(t.durationMs)}</td>
            <td className="muted">{t.workerId ?? '–'}</td>
            <td>{t.error ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Timeline({ ti }: { ti: TaskInstanceDetail }) {
  const steps: { label: string; at: string | null; gap: string }[] = [
    { label: 'scheduled', at: ti.scheduledAt, gap: 'ready; waited for a slot' },
    { label: 'queued', at: ti.queuedAt, gap: 'queued; waited for a worker' },
    { label: 'running', at: ti.startedAt, gap: 'ran' },
    { label: 'ended', at: ti.endedAt, gap: '' },
  ];
  const now = Date.now();
  return (
    <ol className="timeline">
      {steps.map((step, i) => {
        const at = ms(step.at);
        const nextAt =
          steps
            .slice(i + 1)
            .map((s) => ms(s.at))
            .find((t) => t !== null) ?? null;
        const open = at !== null && nextAt === null && !isFinishedTi(ti.state) && i < 3;
        const gap = at !== null ? (nextAt ?? (open ? now : null)) : null;
        return (
          <li key={step.label} className={at === null ? 'pending' : 'done'}>
            <span className="step">{step.label}</span>
            <span className="when" title={formatUtc(step.at)}>
              {at === null ? '–' : formatDateTime(step.at)}
            </span>
            {gap !== null && at !== null && step.gap && (
              <span className="gap">
                {step.gap} {formatDuration(gap - at)}
                {open ? ' so far' : ''}
              </span>
            )}
          </li>
        );
      })}
    </ol>
  );
}

function LogView({
  dagId,
  runId,
  taskId,
  mapIndex,
  tryNumber,
  live,
}: {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  live: boolean;
}) {
  const api = useApi();
  const base = `/dags/${seg(dagId)}/runs/${seg(runId)}/taskInstances/${seg(taskId)}/logs/${tryNumber}`;
  const logs = usePoll<LogLine[]>(
    `log:${base}:${mapIndex}`,
    () =>
      allPages((cursor) =>
        api.get(base, { limit: 1000, cursor, mapIndex: mapIndex >= 0 ? mapIndex : undefined }),
      ),
    live ? 2000 : 0,
  );
  const box = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll to the end whenever new lines arrive.
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [logs.data]);
  if (logs.error && logs.error.status === 404)
    return (
      <p className="muted">
        No log for try {tryNumber} yet{live ? ': it appears as the task prints.' : '.'}
      </p>
    );
  if (logs.error) return <ErrorNotice error={logs.error} onRetry={logs.refresh} compact />;
  if (!logs.data) return <p className="muted">Loading the log…</p>;
  if (logs.data.length === 0)
    return (
      <p className="muted">
        Try {tryNumber} printed nothing{live ? ' yet' : ''}.
      </p>
    );
  return (
    <pre
      className="log"
      role="log"
      ref={box}
      aria-label={`Log of try ${tryNumber}`}
      onScroll={(e) => {
        const el = e.currentTarget;
        follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {logs.data.map((l) => (
        <span key={l.line} className="log-line">
          <span className="ln">{l.line}</span>
          {l.text}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

function TaskInstancePanel({
  dagId,
  runId,
  taskId,
  mapIndex = -1,
  onClear,
  onClose,
}: {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex?: number;
  onClear: (taskId: string) => void;
  onClose: () => void;
}) {
  const api = useApi();
  const path = `/dags/${seg(dagId)}/runs/${seg(runId)}/taskInstances/${seg(taskId)}`;
  const [finished, setFinished] = useState(false);
  const detail = usePoll<TaskInstanceDetail>(
    `ti:${path}:${mapIndex}`,
    () => api.get(path, { mapIndex: mapIndex >= 0 ? mapIndex : undefined }),
    finished ? 10_000 : 2000,
  );
  const ti = detail.data;
  useEffect(() => setFinished(ti ? isFinishedTi(ti.state) : false), [ti]);
  const [chosenTry, setChosenTry] = useState<number | null>(null);
  const currentTry = ti?.tryNumber ?? 0;
  const shownTry = chosenTry ?? (currentTry > 0 ? currentTry : null);

  return (
    <section className="panel" aria-label={`Task instance ${taskId}`}>
      <header className="panel-head">
        <div>
          <span className="eyebrow">Task instance</span>
          <h2>
            {taskId}
            {mapIndex >= 0 && <span className="muted">[{mapIndex}]</span>}
          </h2>
        </div>
        <button type="button" className="icon" aria-label="Close panel" onClick={onClose}>
          ×
        </button>
      </header>
      {detail.error && <ErrorNotice error={detail.error} onRetry={detail.refresh} />}
      {!ti && !detail.error && <p className="muted">Loading…</p>}
      {ti && (
        <>
          <div className="ti-summary">
            <TiBadge state={ti.state} />
            <span title="Airflow's max_tries is the retries; a cleared instance gets its retries again">
              try {Math.max(ti.tryNumber, 1)} of {ti.maxTries + 1}
            </span>
            {ti.durationMs !== null && <span>ran {formatDuration(ti.durationMs)}</span>}
            <span className="spacer" />
            <button type="button" onClick={() => onClear(taskId)}>
              Clear…
            </button>
          </div>
          {ti.waitReasonText && !isFinishedTi(ti.state) && (
            <p className="wait-reason" data-testid="wait-reason">
              <span className="eyebrow">Why it waits</span>
              {ti.waitReasonText}
            </p>
          )}
          {ti.nextRetryAt && ti.state === 'up_for_retry' && (
            <p className="wait-reason">
              <span className="eyebrow">Next try</span>
              {formatRelative(ti.nextRetryAt)} ({formatDateTime(ti.nextRetryAt)})
            </p>
          )}
          {ti.error && (
            <div className="ti-error">
              <span className="eyebrow">Error</span>
              <pre>{ti.error}</pre>
            </div>
          )}
          <Timeline ti={ti} />
          <Tries tries={ti.tries} />
          <dl className="facts">
            <dt>Operator</dt>
            <dd>{ti.task?.kind ?? '–'}</dd>
            <dt>Pool</dt>
            <dd>
              <a href={`#/pools?pool=${encodeURIComponent(ti.pool)}`}>{ti.pool}</a> · {ti.poolSlots}{' '}
              {ti.poolSlots === 1 ? 'slot' : 'slots'}
            </dd>
            <dt>Priority</dt>
            <dd>{ti.priorityWeight}</dd>
            <dt>Executor</dt>
            <dd>
              {ti.executor}
              {ti.workerId && <span className="muted"> · {ti.workerId}</span>}
            </dd>
            {ti.task && (
              <>
                <dt>Trigger rule</dt>
                <dd>{ti.task.triggerRule}</dd>
                <dt>Retries</dt>
                <dd>
                  {ti.task.retries === 0
                    ? 'none'
                    : `${ti.task.retries} · after ${formatDuration(ti.task.retryDelayMs)}${ti.task.retryExponentialBackoff ? ', growing' : ''}`}
                </dd>
              </>
            )}
          </dl>
          {ti.result !== null && ti.result !== undefined && (
            <div className="result">
              <span className="eyebrow">Result</span>
              <pre>{JSON.stringify(ti.result, null, 2)}</pre>
            </div>
          )}
          <div className="logs">
            <div className="tabs small" role="tablist" aria-label="Tries">
              <span className="eyebrow">Logs</span>
              {ti.tries.map((t) => (
                <button
                  type="button"
                  role="tab"
                  key={t.tryNumber}
                  aria-selected={t.tryNumber === shownTry}
                  className={t.tryNumber === shownTry ? 'active' : ''}
                  onClick={() => setChosenTry(t.tryNumber)}
                  title={t.startedAt ? `started ${formatDateTime(t.startedAt)}` : undefined}
                >
                  Try {t.tryNumber}
                  {t.state && <span className="mini-dot" style={{ background: tiStyle(t.state).color }} />}
                </button>
              ))}
            </div>
            {shownTry === null ? (
              <p className="muted">No try yet: the log appears once it starts.</p>
            ) : (
              <LogView
                dagId={dagId}
                runId={runId}
                taskId={taskId}
                mapIndex={mapIndex}
                tryNumber={shownTry}
                live={shownTry === currentTry && !isFinishedTi(ti.state)}
              />
            )}
          </div>
        </>
      )}
    </section>
  );
}

export { TaskInstancePanel };
