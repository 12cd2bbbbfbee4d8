/**
 * Clear (re-run) task instances: this task, optionally its downstream, optionally only the failed
 * ones. The list of what would be cleared is a dry run, refreshed as the options change; nothing is
 * cleared until the button that says how many is pressed.
 */
import { useEffect, useState } from 'react';
import { type ApiError, asApiError, seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { ClearRequest, ClearResult } from '../api/types.ts';
import { Dialog } from '../components/dialog.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { TiBadge } from '../components/state.tsx';

function ClearDialog({
  dagId,
  runId,
  taskIds,
  title,
  defaults,
  onClose,
  onCleared,
}: {
  dagId: string;
  runId: string;
  taskIds: string[];
  title?: string;
  defaults?: { includeDownstream?: boolean; onlyFailed?: boolean };
  onClose: () => void;
  onCleared: (result: ClearResult) => void;
}) {
  const api = useApi();
  const [includeDownstream, setDownstream] = useState(defaults?.includeDownstream ?? true);
  const [onlyFailed, setOnlyFailed] = useState(defaults?.onlyFailed ?? false);
  const [preview, setPreview] = useState<ClearResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<ClearResult | null>(null);
  const body = (dryRun: boolean): ClearRequest => ({ runId, taskIds, includeDownstream, onlyFailed, dryRun });

  // biome-ignore lint/correctness/useExhaustiveDependencies: body() reads exactly these options.
  useEffect(() => {
    let live = true;
    setPreview(null);
    api
      .post<ClearResult>(`/dags/${seg(dagId)}/clearTaskInstances`, body(true))
      .then((r) => live && setPreview(r))
      .catch((e) => live && setError(asApiError(e)));
    return () => {
      live = false;
    };
  }, [api, dagId, runId, taskIds.join(','), includeDownstream, onlyFailed]);

  const clear = async () => {
    setBusy(true);
    setError(null);
    try {
      const result = await api.post<ClearResult>(`/dags/${seg(dagId)}/clearTaskInstances`, body(false));
      setDone(result);
      onCleared(result);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  const count = preview?.cleared.length ?? 0;
  return (
    <Dialog
      title={title ?? `Clear ${taskIds.length === 1 ? taskIds[0] : `${taskIds.length} tasks`}`}
      onClose={onClose}
      footer={
        done ? (
          <button type="button" className="primary" onClick={onClose}>
            Close
          </button>
        ) : (
          <>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button
              type="button"
              className="primary danger"
              disabled={busy || !preview || count === 0}
              onClick={clear}
            >
              {busy ? 'Clearing…' : `Clear ${count} task ${count === 1 ? 'instance' : 'instances'}`}
            </button>
          </>
        )
      }
    >
      <p className="muted">
        In run <code>{runId}</code>. Cleared task instances run again (their try count goes on); a finished
        run goes back to queued.
      </p>
      {!done && (
        <div className="options">
          <label className="check">
            <input
              type="checkbox"
              checked={includeDownstream}
              onChange={(e) => setDownstream(e.target.checked)}
            />
            With downstream tasks
          </label>
          <label className="check">
            <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.target.checked)} />
            Only failed (and upstream failed)
          </label>
        </div>
      )}
      {error && <ErrorNotice error={error} />}
      {done ? (
        <div className="notice ok" role="status">
          <strong>
            Cleared {done.cleared.length} task {done.cleared.length === 1 ? 'instance' : 'instances'}.
          </strong>
          {done.runsRequeued.length > 0 && <span> The run went back to queued.</span>}
          {done.skipped.length > 0 && (
            <span className="hint">
              {done.skipped.length} changed while being cleared and were left as they are: look at them again.
            </span>
          )}
        </div>
      ) : (
        <>
          <h3 className="list-title">
            {preview ? `Would clear ${count}` : 'Listing what would be cleared…'}
          </h3>
          {preview && count === 0 && <p className="muted">Nothing matches: no task instance would change.</p>}
          {preview && count > 0 && (
            <ul className="ti-list" aria-label="Would be cleared">
              {preview.cleared.map((t) => (
                <li key={`${t.runId}:${t.taskId}:${t.mapIndex}`}>
                  <span>
                    {t.taskId}
                    {t.mapIndex >= 0 ? `[${t.mapIndex}]` : ''}
                  </span>
                  <TiBadge state={t.state} />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Dialog>
  );
}

export { ClearDialog };
