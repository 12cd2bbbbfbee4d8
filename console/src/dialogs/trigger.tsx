/** Trigger a run with conf (checked as JSON before it is sent), an optional logical date and run id. */
import { useEffect, useRef, useState } from 'react';
import { type ApiError, asApiError, seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { DagDetail, Run } from '../api/types.ts';
import { Dialog } from '../components/dialog.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { JsonField } from '../components/json-field.tsx';
import { localInputToIso } from '../lib/dates.ts';
import { checkJsonObject } from '../lib/json.ts';

function TriggerDialog({
  dagId,
  onClose,
  onTriggered,
}: {
  dagId: string;
  onClose: () => void;
  onTriggered: (run: Run) => void;
}) {
  const api = useApi();
  const [conf, setConf] = useState('{}');
  const touched = useRef(false);
  const [logicalDate, setLogicalDate] = useState('');
  const [runId, setRunId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [params, setParams] = useState<Record<string, unknown> | null>(null);

  useEffect(() => {
    let live = true;
    api
      .get<DagDetail>(`/dags/${seg(dagId)}`)
      .then((d) => {
        if (!live) return;
        setParams(d.params);
        if (!touched.current && Object.keys(d.params).length > 0) setConf(JSON.stringify(d.params, null, 2));
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [api, dagId]);

  const check = checkJsonObject(conf);
  const fieldError = (field: string) => (error?.field === field ? error.message : null);
  const submit = async () => {
    if (!check.ok) return;
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { conf: check.value };
      if (logicalDate) body.logicalDate = localInputToIso(logicalDate);
      if (runId.trim()) body.runId = runId.trim();
      onTriggered(await api.post<Run>(`/dags/${seg(dagId)}/runs`, body));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={`Trigger ${dagId}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={!check.ok || busy} onClick={submit}>
            {busy ? 'Triggering…' : 'Trigger run'}
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <JsonField
          label="Configuration (conf)"
          value={conf}
          onChange={(t) => {
            touched.current = true;
            setConf(t);
          }}
          check={check}
          hint={
            params && Object.keys(params).length > 0
              ? 'Prefilled with the DAG’s params; tasks read it as ctx.conf.'
              : 'A JSON object; tasks read it as ctx.conf.'
          }
        />
        {fieldError('conf') && <span className="field-error">{fieldError('conf')}</span>}
        <div className="grid-2">
          <div className="field">
            <label htmlFor="trigger-date">Logical date (optional)</label>
            <input
              id="trigger-date"
              type="datetime-local"
              step={1}
              value={logicalDate}
              onChange={(e) => setLogicalDate(e.target.value)}
              aria-invalid={Boolean(fieldError('logicalDate'))}
            />
            <span className={fieldError('logicalDate') ? 'field-error' : 'help'}>
              {fieldError('logicalDate') ?? 'Your local time; default now.'}
            </span>
          </div>
          <div className="field">
            <label htmlFor="trigger-run-id">Run id (optional)</label>
            <input
              id="trigger-run-id"
              value={runId}
              placeholder="manual__<logical date>"
              onChange={(e) => setRunId(e.target.value)}
              aria-invalid={Boolean(fieldError('runId'))}
            />
            {fieldError('runId') && <span className="field-error">{fieldError('runId')}</span>}
          </div>
        </div>
        {error && !['conf', 'logicalDate', 'runId'].includes(error.field ?? '') && (
          <ErrorNotice error={error} />
        )}
        <button type="submit" hidden aria-hidden="true" tabIndex={-1} />
      </form>
    </Dialog>
  );
}

export { TriggerDialog };
