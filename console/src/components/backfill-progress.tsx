/** A backfill's progress: a bar split by run state, the counts, the time left; live while it runs. */
import { seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { Backfill } from '../api/types.ts';
import { formatDuration, formatShort } from '../lib/format.ts';
import { usePoll } from '../lib/poll.ts';
import { runStyle } from '../lib/states.ts';
import { ErrorNotice } from './error-notice.tsx';

function ProgressBar({ backfill }: { backfill: Backfill }) {
  const p = backfill.progress;
  const total = Math.max(1, p.total);
  const part = (n: number, color: string, label: string) =>
    n > 0 && (
      <span
        className="bar-part"
        style={{ width: `${(n / total) * 100}%`, background: color }}
        title={`${n} ${label}`}
      />
    );
  const percent = Math.round(p.fraction * 100);
  return (
    <div className="backfill-progress">
      <div
        className="bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-label={`Backfill ${percent}% done`}
      >
        {part(p.success, runStyle('success').color, 'succeeded')}
        {part(p.failed, runStyle('failed').color, 'failed')}
        {part(p.skipped, '#ff69b4', 'skipped')}
        {part(p.running, runStyle('running').color, 'running')}
        {part(p.queued, '#d9d9d9', 'queued')}
      </div>
      <div className="bar-legend">
        <strong className="percent" data-testid="backfill-percent">
          {percent}%
        </strong>
        <span>
          {p.success + p.failed + p.skipped} of {p.total} runs done
        </span>
        {p.success > 0 && <span className="k success">{p.success} succeeded</span>}
        {p.failed > 0 && <span className="k failed">{p.failed} failed</span>}
        {p.skipped > 0 && <span className="k">{p.skipped} skipped</span>}
        {p.running > 0 && <span className="k running">{p.running} running</span>}
        {p.queued > 0 && <span className="k">{p.queued} queued</span>}
        {backfill.state === 'running' && p.etaMs !== null && (
          <span className="muted">about {formatDuration(p.etaMs)} left</span>
        )}
        {backfill.state !== 'running' && (
          <span className={`k state ${backfill.state}`}>{backfill.state}</span>
        )}
      </div>
    </div>
  );
}

/** Polls one backfill while it runs. */
function LiveBackfill({ backfillId, initial }: { backfillId: string; initial?: Backfill }) {
  const api = useApi();
  const polled = usePoll<Backfill>(
    `backfill:${backfillId}`,
    () => api.get(`/backfills/${seg(backfillId)}`),
    2000,
  );
  const backfill = polled.data ?? initial;
  if (!backfill)
    return polled.error ? <ErrorNotice error={polled.error} /> : <p className="muted">Loading…</p>;
  return (
    <div className="live-backfill" data-state={backfill.state}>
      <p className="muted">
        {formatShort(backfill.from)} → {formatShort(backfill.to)} · up to {backfill.maxActiveRuns} runs at
        once
        {backfill.runBackwards ? ' · newest first' : ''}
      </p>
      <ProgressBar backfill={backfill} />
      {polled.error && <ErrorNotice error={polled.error} compact />}
    </div>
  );
}

export { LiveBackfill, ProgressBar };
