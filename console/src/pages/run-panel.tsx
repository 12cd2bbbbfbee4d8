/** One run: its interval, timings, conf, task-instance counts; mark it success or failed; clear it. */
import { useState } from 'react';
import { type ApiError, asApiError, seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { Run, TaskInstance, TiState } from '../api/types.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { RunBadge, TiBadge } from '../components/state.tsx';
import { formatDateTime, formatDuration, formatUtc } from '../lib/format.ts';
import { isFinishedRun, TI_ORDER } from '../lib/states.ts';

function RunPanel({
  run,
  tis,
  onChanged,
  onClearFailed,
  onClearAll,
  onClose,
}: {
  run: Run;
  tis: TaskInstance[] | undefined;
  onChanged: () => void;
  onClearFailed: () => void;
  onClearAll: () => void;
  onClose: () => void;
}) {
  const api = useApi();
  const [confirm, setConfirm] = useState<'success' | 'failed' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const counts = new Map<TiState, number>();
  for (const ti of tis ?? []) counts.set(ti.state, (counts.get(ti.state) ?? 0) + 1);
  const failed = (counts.get('failed') ?? 0) + (counts.get('upstream_failed') ?? 0);

  const mark = async (state: 'success' | 'failed') => {
    setBusy(true);
    setError(null);
    try {
      await api.patch(`/dags/${seg(run.dagId)}/runs/${seg(run.runId)}`, { state });
      setConfirm(null);
      onChanged();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-label={`Run ${run.runId}`}>
      <header className="panel-head">
        <div>
          <span className="eyebrow">{run.runType} run</span>
          <h2 className="run-id">{run.runId}</h2>
        </div>
        <button type="button" className="icon" aria-label="Close panel" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="ti-summary">
        <RunBadge state={run.state} />
        {run.durationMs !== null && <span>took {formatDuration(run.durationMs)}</span>}
        {run.clearNumber > 0 && <span className="muted">cleared {run.clearNumber}×</span>}
      </div>
      {run.note && <p className="wait-reason">{run.note}</p>}
      <dl className="facts">
        <dt>Logical date</dt>
        <dd title={formatUtc(run.logicalDate)}>{formatDateTime(run.logicalDate)}</dd>
        <dt>Data interval</dt>
        <dd title={`${formatUtc(run.dataIntervalStart)} → ${formatUtc(run.dataIntervalEnd)}`}>
          {formatDateTime(run.dataIntervalStart)} → {formatDateTime(run.dataIntervalEnd)}
        </dd>
        <dt>Started</dt>
        <dd>{formatDateTime(run.startedAt)}</dd>
        <dt>Ended</dt>
        <dd>{formatDateTime(run.endedAt)}</dd>
        <dt>DAG version</dt>
        <dd>
          <code>{run.dagVersion.slice(0, 12)}</code>
        </dd>
        {run.backfillId && (
          <>
            <dt>Backfill</dt>
            <dd>
              <code>{run.backfillId}</code>
            </dd>
          </>
        )}
      </dl>
      <div className="counts">
        {TI_ORDER.filter((s) => counts.has(s)).map((s) => (
          <span key={s} className="count-chip">
            <TiBadge state={s} /> {counts.get(s)}
          </span>
        ))}
      </div>
      {Object.keys(run.conf).length > 0 && (
        <div className="result">
          <span className="eyebrow">conf</span>
          <pre>{JSON.stringify(run.conf, null, 2)}</pre>
        </div>
      )}
      {error && <ErrorNotice error={error} />}
      <div className="panel-actions">
        {failed > 0 && (
          <button type="button" onClick={onClearFailed}>
            Clear failed…
          </button>
        )}
        <button type="button" onClick={onClearAll} title="Run every task of this run again">
          Clear run…
        </button>
        {confirm === null ? (
          <>
            <button type="button" disabled={run.state === 'success'} onClick={() => setConfirm('success')}>
              Mark success
            </button>
            <button
              type="button"
              disabled={isFinishedRun(run.state) && run.state === 'failed'}
              onClick={() => setConfirm('failed')}
            >
              Mark failed
            </button>
          </>
        ) : (
          <div className="confirm">
            <span>
              {confirm === 'success'
                ? 'Every task instance not yet successful becomes success; running tries are stopped.'
                : 'Running task instances fail and the rest are skipped; running tries are stopped.'}
            </span>
            <button type="button" onClick={() => setConfirm(null)}>
              Cancel
            </button>
            <button type="button" className="primary danger" disabled={busy} onClick={() => mark(confirm)}>
              {busy ? 'Marking…' : `Mark ${confirm}`}
            </button>
          </div>
        )}
      </div>
    </section>
  );
}

export { RunPanel };
