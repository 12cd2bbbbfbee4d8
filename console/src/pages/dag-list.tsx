/**
 * The DAG list: what runs when, how it went lately, and what failed to load — at a glance, live.
 */
import { useMemo, useState } from 'react';
import { useApi } from '../api/context.ts';
import type { Dag, ImportError, Page } from '../api/types.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { RunDot } from '../components/state.tsx';
import { PauseToggle, usePauseDag } from '../components/toggle.tsx';
import { TriggerDialog } from '../dialogs/trigger.tsx';
import { formatDateTime, formatDuration, formatRelative, formatShort, formatUtc } from '../lib/format.ts';
import { usePoll } from '../lib/poll.ts';
import { href, navigate, type Route, updateParams } from '../lib/router.ts';

const RECENT = 12;

function ImportErrorsBanner({ errors }: { errors: ImportError[] }) {
  const [open, setOpen] = useState(false);
  if (errors.length === 0) return null;
  return (
    <section className="banner danger" aria-live="polite" aria-label="Import errors">
      <button type="button" className="banner-head" onClick={() => setOpen(!open)} aria-expanded={open}>
        <strong>
          {errors.length} DAG {errors.length === 1 ? 'file' : 'files'} failed to load
        </strong>
        <span>
          {open ? 'Hide' : 'Show'} {errors.length === 1 ? 'the error' : 'the errors'}
        </span>
      </button>
      {open && (
        <ul>
          {errors.map((e) => (
            <li key={e.fileloc}>
              <code>{e.fileloc}</code> <span className="muted">{formatRelative(e.at)}</span>
              <pre>{e.message}</pre>
            </li>
          ))}
        </ul>
      )}
      {!open && (
        <p className="muted">
          DAGs in these files keep their last good version. Fix the file and save it: the watcher reloads it.
        </p>
      )}
    </section>
  );
}

/** "success 4m ago", "running for 12 s", "queued". */
function lastRunWords(run: Dag['recentRuns'][number]): string {
  if (run.state === 'running' && run.startedAt)
    return `running for ${formatDuration(Date.now() - Date.parse(run.startedAt))}`;
  if (run.endedAt) return `${run.state} ${formatRelative(run.endedAt)}`;
  return run.state;
}

function RecentRuns({ dag }: { dag: Dag }) {
  // Oldest on the left, newest on the right, as in the grid.
  const runs = [...dag.recentRuns].reverse();
  if (runs.length === 0) return <span className="muted">no runs yet</span>;
  return (
    <span>
      <span className="recent-runs">
        {runs.map((r) => (
          <a
            key={r.runId}
            href={href(['dags', dag.dagId], { run: r.runId })}
            title={`${r.state} · ${r.runType} · ${formatDateTime(r.logicalDate)}`}
          >
            <RunDot state={r.state} />
          </a>
        ))}
      </span>
      <span className="sub">{lastRunWords(dag.recentRuns[0]!)}</span>
    </span>
  );
}

function NextRun({ dag }: { dag: Dag }) {
  if (dag.paused) return <span className="muted">paused</span>;
  if (!dag.nextRun)
    return <span className="muted">{dag.schedule?.kind === 'none' ? 'manual only' : 'none due'}</span>;
  return (
    <span
      title={`data interval ${formatUtc(dag.nextRun.dataIntervalStart)} → ${formatUtc(dag.nextRun.dataIntervalEnd)}`}
    >
      {formatRelative(dag.nextRun.runAfter)}
      <span className="sub">{formatShort(dag.nextRun.runAfter)}</span>
    </span>
  );
}

function DagRow({
  dag,
  onChanged,
  onTrigger,
}: {
  dag: Dag;
  onChanged: () => void;
  onTrigger: (d: Dag) => void;
}) {
  const { busy, error, setPaused } = usePauseDag(dag.dagId, onChanged);
  return (
    <tr className={`${dag.paused ? 'paused' : ''}${dag.importError ? ' broken' : ''}`} data-dag={dag.dagId}>
      <td className="toggle-cell">
        <PauseToggle paused={dag.paused} busy={busy} onChange={setPaused} label={`Schedule ${dag.dagId}`} />
      </td>
      <td className="dag-name">
        <a href={href(['dags', dag.dagId])}>{dag.dagId}</a>
        {dag.description && <span className="sub">{dag.description}</span>}
        <span className="tags">
          {dag.tags.map((t) => (
            <a key={t} className="tag" href={href([], { tag: t })}>
              {t}
            </a>
          ))}
          {dag.importError && (
            <span className="tag danger" title={dag.importError.message}>
              import error
            </span>
          )}
          {!dag.active && <span className="tag">file deleted</span>}
        </span>
        {error && <ErrorNotice error={error} compact />}
      </td>
      <td data-label="Schedule">
        {dag.schedule ? (
          <span>
            {dag.schedule.description}
            {dag.schedule.expression && <code className="sub">{dag.schedule.expression}</code>}
          </span>
        ) : (
          <span className="muted">unknown</span>
        )}
      </td>
      <td data-label="Next run">
        <NextRun dag={dag} />
      </td>
      <td data-label="Recent runs">
        <RecentRuns dag={dag} />
      </td>
      <td className="actions">
        <button
          type="button"
          className="icon-button"
          title={`Trigger ${dag.dagId}`}
          aria-label={`Trigger ${dag.dagId}`}
          onClick={() => onTrigger(dag)}
        >
          ▶
        </button>
      </td>
    </tr>
  );
}

function DagListPage({ route }: { route: Route }) {
  const api = useApi();
  const tag = route.params.get('tag');
  const filter = route.params.get('q') ?? '';
  const show = route.params.get('show') ?? 'all';
  const [trigger, setTrigger] = useState<Dag | null>(null);
  const dags = usePoll<Page<Dag>>(
    `dags:${tag ?? ''}`,
    () => api.get<Page<Dag>>('/dags', { limit: 1000, recentRuns: RECENT, tag }),
    3000,
  );
  const importErrors = usePoll<Page<ImportError>>(
    'importErrors',
    () => api.get('/importErrors', { limit: 100 }),
    5000,
  );
  const visible = useMemo(() => {
    const q = filter.trim().toLowerCase();
    return (dags.data?.items ?? []).filter(
      (d) =>
        (show === 'all' || (show === 'active' ? !d.paused : d.paused)) &&
        (q === '' || d.dagId.toLowerCase().includes(q) || d.tags.some((t) => t.toLowerCase().includes(q))),
    );
  }, [dags.data, filter, show]);
  const counts = useMemo(() => {
    const items = dags.data?.items ?? [];
    return {
      all: items.length,
      active: items.filter((d) => !d.paused).length,
      paused: items.filter((d) => d.paused).length,
    };
  }, [dags.data]);

  return (
    <main className="page">
      <ImportErrorsBanner errors={importErrors.data?.items ?? []} />
      <div className="page-head">
        <h1>DAGs</h1>
        <div className="filters">
          <div className="segmented" role="tablist" aria-label="Show">
            {(['all', 'active', 'paused'] as const).map((s) => (
              <button
                type="button"
                key={s}
                role="tab"
                aria-selected={show === s}
                className={show === s ? 'active' : ''}
                onClick={() => updateParams(route, { show: s === 'all' ? null : s })}
              >
                {s} <span className="count">{counts[s]}</span>
              </button>
            ))}
          </div>
          <input
            type="search"
            placeholder="Filter by id or tag"
            aria-label="Filter DAGs"
            defaultValue={filter}
            onChange={(e) => updateParams(route, { q: e.target.value || null })}
          />
          {tag && (
            <button type="button" className="chip" onClick={() => navigate([], {})}>
              tag: {tag} ×
            </button>
          )}
        </div>
      </div>
      {dags.error && <ErrorNotice error={dags.error} onRetry={dags.refresh} />}
      {dags.loading && !dags.data && <p className="muted">Loading DAGs…</p>}
      {dags.data && dags.data.items.length === 0 && (
        <section className="card empty">
          <h2>No DAGs yet</h2>
          <p>
            Put a DAG file in the folder <code>npm start</code> watches (<code>examples/dags</code> by
            default): it appears here within seconds.
          </p>
        </section>
      )}
      {visible.length > 0 && (
        <table className="dag-table responsive">
          <thead>
            <tr>
              <th aria-label="Scheduled" />
              <th>DAG</th>
              <th>Schedule</th>
              <th>Next run</th>
              <th>Recent runs</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {visible.map((d) => (
              <DagRow key={d.dagId} dag={d} onChanged={dags.refresh} onTrigger={setTrigger} />
            ))}
          </tbody>
        </table>
      )}
      {dags.data && dags.data.items.length > 0 && visible.length === 0 && (
        <p className="muted">No DAG matches.</p>
      )}
      {trigger && (
        <TriggerDialog
          dagId={trigger.dagId}
          onClose={() => setTrigger(null)}
          onTriggered={(run) => {
            setTrigger(null);
            navigate(['dags', run.dagId], { run: run.runId });
          }}
        />
      )}
    </main>
  );
}

export { DagListPage };
