/** A DAG's backfills, newest first, each with its live progress and a Cancel while it runs. */
import { useState } from 'react';
import { type ApiError, asApiError, seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { Backfill, Page } from '../api/types.ts';
import { ProgressBar } from '../components/backfill-progress.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { formatRelative, formatShort } from '../lib/format.ts';
import { usePoll } from '../lib/poll.ts';

function BackfillRow({ backfill, onChanged }: { backfill: Backfill; onChanged: () => void }) {
  const api = useApi();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/backfills/${seg(backfill.backfillId)}/cancel`, {});
      onChanged();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="card backfill" data-state={backfill.state} data-backfill={backfill.backfillId}>
      <div className="backfill-head">
        <strong>
          {formatShort(backfill.from)} → {formatShort(backfill.to)}
        </strong>
        <span className="muted">
          started {formatRelative(backfill.createdAt)} ·{' '}
          {backfill.reprocessBehavior === 'none'
            ? 'new dates only'
            : `reprocess ${backfill.reprocessBehavior}`}{' '}
          · {backfill.maxActiveRuns} at once
          {backfill.runBackwards ? ' · backwards' : ''}
        </span>
        <span className="spacer" />
        {backfill.state === 'running' && (
          <button
            type="button"
            disabled={busy}
            onClick={cancel}
            title="No more of its runs start; queued ones fail, running ones finish"
          >
            Cancel
          </button>
        )}
      </div>
      <ProgressBar backfill={backfill} />
      {backfill.skipped.length > 0 && (
        <details>
          <summary className="muted">{backfill.skipped.length} dates skipped</summary>
          <ul>
            {backfill.skipped.map((s) => (
              <li key={s.logicalDate}>
                {formatShort(s.logicalDate)}: {s.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      {error && <ErrorNotice error={error} compact />}
    </li>
  );
}

function BackfillsTab({ dagId, onNew }: { dagId: string; onNew: () => void }) {
  const api = useApi();
  const list = usePoll<Page<Backfill>>(
    `backfills:${dagId}`,
    () => api.get('/backfills', { dagId, limit: 20 }),
    2500,
  );
  return (
    <div className="backfills">
      <div className="row">
        <p className="muted">Backfills create runs over past logical dates with their own limit.</p>
        <span className="spacer" />
        <button type="button" className="primary" onClick={onNew}>
          New backfill…
        </button>
      </div>
      {list.error && <ErrorNotice error={list.error} onRetry={list.refresh} />}
      {list.data && list.data.items.length === 0 && <p className="muted">No backfill yet.</p>}
      <ul className="backfill-list">
        {list.data?.items.map((b) => (
          <BackfillRow key={b.backfillId} backfill={b} onChanged={list.refresh} />
        ))}
      </ul>
    </div>
  );
}

export { BackfillsTab };
