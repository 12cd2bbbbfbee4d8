/**
 * A backfill: a logical-date range, what to do with dates that already ran, its own limit. Preview
 * is a dry run (one line per logical date: create, clear or skip, and why); Start creates it and the
 * dialog turns into its live progress bar.
 */
import { useState } from 'react';
import { type ApiError, asApiError } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { BackfillCreate, BackfillCreated } from '../api/types.ts';
import { LiveBackfill } from '../components/backfill-progress.tsx';
import { Dialog } from '../components/dialog.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { JsonField } from '../components/json-field.tsx';
import { toDateInput } from '../lib/dates.ts';
import { formatDateTime } from '../lib/format.ts';
import { checkJsonObject } from '../lib/json.ts';

/** The API's instant syntax: a date, or a date-time with a zone. */
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function instantProblem(value: string): string | null {
  if (value.trim() === '') return 'required';
  if (!INSTANT.test(value.trim()) || Number.isNaN(Date.parse(value.trim())))
    return 'a date (2026-01-05) or a date-time with a zone (2026-01-05T06:00Z)';
  return null;
}

const REPROCESS = {
  none: 'Only dates without a run',
  failed: 'Also re-run failed runs',
  completed: 'Re-run every finished run',
} as const;

function BackfillDialog({ dagId, onClose }: { dagId: string; onClose: () => void }) {
  const api = useApi();
  const day = 86_400_000;
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const [from, setFrom] = useState(toDateInput(today - 7 * day));
  const [to, setTo] = useState(toDateInput(today - day));
  const [reprocess, setReprocess] = useState<keyof typeof REPROCESS>('none');
  const [backwards, setBackwards] = useState(false);
  const [maxActiveRuns, setMaxActiveRuns] = useState('10');
  const [conf, setConf] = useState('{}');
  const [plan, setPlan] = useState<BackfillCreated['plan'] | null>(null);
  const [created, setCreated] = useState<BackfillCreated | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<'preview' | 'start' | null>(null);

  const confCheck = checkJsonObject(conf);
  const max = Number(maxActiveRuns);
  const problems = {
    from: instantProblem(from),
    to: instantProblem(to) ?? (Date.parse(from) > Date.parse(to) ? 'must not be before from' : null),
    maxActiveRuns: Number.isInteger(max) && max >= 1 ? null : 'a whole number, at least 1',
  };
  const valid = !problems.from && !problems.to && !problems.maxActiveRuns && confCheck.ok;
  const request = (dryRun: boolean): BackfillCreate => ({
    dagId,
    from: from.trim(),
    to: to.trim(),
    reprocessBehavior: reprocess,
    runBackwards: backwards,
    maxActiveRuns: max,
    ...(confCheck.ok && Object.keys(confCheck.value).length > 0 ? { conf: confCheck.value } : {}),
    dryRun,
  });
  const send = async (dryRun: boolean) => {
    setBusy(dryRun ? 'preview' : 'start');
    setError(null);
    try {
      const res = await api.post<BackfillCreated>('/backfills', request(dryRun));
      if (dryRun) setPlan(res.plan);
      else setCreated(res);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(null);
    }
  };
  const edit =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setPlan(null);
    };
  const shownProblem = (field: keyof typeof problems) =>
    problems[field] ?? (error?.field === field ? error.message : null);

  if (created?.backfill)
    return (
      <Dialog
        title={`Backfill of ${dagId}`}
        onClose={onClose}
        footer={
          <button type="button" className="primary" onClick={onClose}>
            Close
          </button>
        }
      >
        <p>
          Started: {created.plan.filter((p) => p.action !== 'skip').length} runs. It goes on if you close
          this; the Backfills tab follows it too.
        </p>
        <LiveBackfill backfillId={created.backfill.backfillId} initial={created.backfill} />
      </Dialog>
    );

  const counts = plan && {
    create: plan.filter((p) => p.action === 'create').length,
    clear: plan.filter((p) => p.action === 'clear').length,
    skip: plan.filter((p) => p.action === 'skip').length,
  };
  return (
    <Dialog
      title={`Backfill ${dagId}`}
      wide
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" disabled={!valid || busy !== null} onClick={() => send(true)}>
            {busy === 'preview' ? 'Previewing…' : 'Preview (dry run)'}
          </button>
          <button
            type="button"
            className="primary"
            disabled={!valid || busy !== null}
            onClick={() => send(false)}
          >
            {busy === 'start' ? 'Starting…' : 'Start backfill'}
          </button>
        </>
      }
    >
      <div className="grid-2">
        <div className="field">
          <label htmlFor="bf-from">From (logical date, inclusive)</label>
          <input
            id="bf-from"
            value={from}
            onChange={(e) => edit(setFrom)(e.target.value)}
            aria-invalid={Boolean(shownProblem('from'))}
          />
          <span className={shownProblem('from') ? 'field-error' : 'help'}>
            {shownProblem('from') ?? 'UTC; a date means midnight'}
          </span>
        </div>
        <div className="field">
          <label htmlFor="bf-to">To (inclusive)</label>
          <input
            id="bf-to"
            value={to}
            onChange={(e) => edit(setTo)(e.target.value)}
            aria-invalid={Boolean(shownProblem('to'))}
          />
          {shownProblem('to') && <span className="field-error">{shownProblem('to')}</span>}
        </div>
        <div className="field">
          <label htmlFor="bf-reprocess">Dates that already ran</label>
          <select
            id="bf-reprocess"
            value={reprocess}
            onChange={(e) => edit(setReprocess)(e.target.value as keyof typeof REPROCESS)}
          >
            {Object.entries(REPROCESS).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
          <span className="help">A run in flight is always left alone.</span>
        </div>
        <div className="field">
          <label htmlFor="bf-max">Runs at once</label>
          <input
            id="bf-max"
            type="number"
            min={1}
            value={maxActiveRuns}
            onChange={(e) => edit(setMaxActiveRuns)(e.target.value)}
            aria-invalid={Boolean(shownProblem('maxActiveRuns'))}
          />
          <span className={shownProblem('maxActiveRuns') ? 'field-error' : 'help'}>
            {shownProblem('maxActiveRuns') ??
              'This backfill’s own limit; the DAG’s maxActiveRuns still applies.'}
          </span>
        </div>
      </div>
      <label className="check">
        <input type="checkbox" checked={backwards} onChange={(e) => edit(setBackwards)(e.target.checked)} />
        Newest date first (run backwards)
      </label>
      <details className="advanced">
        <summary>Configuration (conf)</summary>
        <JsonField label="conf for every run" value={conf} onChange={edit(setConf)} check={confCheck} />
      </details>
      {error && !['from', 'to', 'maxActiveRuns'].includes(error.field ?? '') && <ErrorNotice error={error} />}
      {plan && counts && (
        <section className="plan" aria-label="Backfill plan">
          <h3 className="list-title">
            {plan.length} logical {plan.length === 1 ? 'date' : 'dates'}: {counts.create} to create
            {counts.clear > 0 ? `, ${counts.clear} to re-run` : ''}
            {counts.skip > 0 ? `, ${counts.skip} skipped` : ''}
          </h3>
          {plan.length === 0 && <p className="muted">The schedule has no logical date in this range.</p>}
          <ol className="plan-list">
            {plan.map((p) => (
              <li key={p.runId} className={`plan-${p.action}`}>
                <span className="plan-action">{p.action === 'clear' ? 're-run' : p.action}</span>
                <span>{formatDateTime(p.logicalDate)}</span>
                {p.reason && <span className="muted">{p.reason}</span>}
              </li>
            ))}
          </ol>
        </section>
      )}
    </Dialog>
  );
}

export { BackfillDialog };
