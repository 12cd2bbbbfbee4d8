/**
 * Pools: how many slots each has, how many are held (running, queued) and open, which task
 * instances hold them — and resize in place (it takes effect at the next claim).
 */
import { useState } from 'react';
import { type ApiError, asApiError, seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import type { Page, Pool } from '../api/types.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { TiBadge } from '../components/state.tsx';
import { formatRelative } from '../lib/format.ts';
import { usePoll } from '../lib/poll.ts';
import { href, type Route, updateParams } from '../lib/router.ts';
import { tiStyle } from '../lib/states.ts';

function UsageBar({ pool }: { pool: Pool }) {
  const unlimited = pool.slots < 0;
  const total = unlimited ? Math.max(1, pool.used) : Math.max(1, pool.slots, pool.used);
  const pct = (n: number) => `${(n / total) * 100}%`;
  const over = !unlimited && pool.used > pool.slots;
  return (
    <div className="usage">
      <div
        className={`bar${over ? ' over' : ''}`}
        role="img"
        aria-label={`${pool.used} of ${unlimited ? 'unlimited' : pool.slots} slots used`}
      >
        <span
          className="bar-part"
          style={{ width: pct(pool.running), background: tiStyle('running').color }}
        />
        <span className="bar-part" style={{ width: pct(pool.queued), background: tiStyle('queued').color }} />
      </div>
      <div className="usage-numbers">
        <span>
          <span className="k running">{pool.running}</span> running
        </span>
        <span>
          <span className="k queued">{pool.queued}</span> queued
        </span>
        <span>
          <strong data-testid="pool-open">{pool.open === null ? '∞' : pool.open}</strong> open
        </span>
        {over && <span className="field-error">over its size: nothing new starts until use falls</span>}
        {pool.used !== pool.queued + pool.running && (
          <span
            className="muted"
            title="The counter every claim checks, versus the slots summed from the holders: a claim or a try end is in flight."
          >
            counter {pool.used}
          </span>
        )}
      </div>
    </div>
  );
}

function SlotsEditor({ pool, onSaved }: { pool: Pool; onSaved: () => void }) {
  const api = useApi();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(String(pool.slots));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const n = Number(value);
  const valid = Number.isInteger(n) && n >= -1;
  const save = async () => {
    if (!valid) return;
    setBusy(true);
    setError(null);
    try {
      await api.patch(`/pools/${seg(pool.name)}`, { slots: n });
      setEditing(false);
      onSaved();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  if (!editing)
    return (
      <button
        type="button"
        className="slots-button"
        title="Resize"
        aria-label={`Resize ${pool.name}`}
        onClick={() => {
          setValue(String(pool.slots));
          setEditing(true);
        }}
      >
        <strong data-testid="pool-slots">{pool.slots < 0 ? '∞' : pool.slots}</strong>
        <span className="pencil" aria-hidden="true">
          ✎
        </span>
      </button>
    );
  return (
    <form
      className="slots-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <input
        type="number"
        min={-1}
        value={value}
        aria-label={`Slots of ${pool.name}`}
        aria-invalid={!valid}
        // biome-ignore lint/a11y/noAutofocus: the input appears because the user asked to edit it.
        autoFocus
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setEditing(false);
        }}
      />
      <button type="submit" className="primary" disabled={!valid || busy}>
        {busy ? '…' : 'Save'}
      </button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
      <span className={valid ? 'help' : 'field-error'}>
        {valid
          ? '-1 = unlimited. Shrinking below use stops new claims until use falls.'
          : 'a whole number, -1 or more'}
      </span>
      {error && <ErrorNotice error={error} compact />}
    </form>
  );
}

function Holders({ pool }: { pool: Pool }) {
  if (pool.holders.length === 0) return <p className="muted">No task instance holds a slot.</p>;
  return (
    <table className="holders">
      <thead>
        <tr>
          <th>Task instance</th>
          <th>State</th>
          <th>Slots</th>
          <th>Since</th>
        </tr>
      </thead>
      <tbody>
        {pool.holders.map((h) => (
          <tr key={`${h.dagId}:${h.runId}:${h.taskId}:${h.mapIndex}`}>
            <td>
              <a href={href(['dags', h.dagId], { run: h.runId, task: h.taskId })}>
                {h.dagId}.{h.taskId}
                {h.mapIndex >= 0 ? `[${h.mapIndex}]` : ''}
              </a>
              <span className="sub">{h.runId}</span>
            </td>
            <td>
              <TiBadge state={h.state} />
            </td>
            <td>{h.slots}</td>
            <td>{formatRelative(h.startedAt ?? h.queuedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PoolCard({
  pool,
  open,
  onToggle,
  onChanged,
}: {
  pool: Pool;
  open: boolean;
  onToggle: () => void;
  onChanged: () => void;
}) {
  const api = useApi();
  const [error, setError] = useState<ApiError | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const remove = async () => {
    setError(null);
    try {
      await api.delete(`/pools/${seg(pool.name)}`);
      onChanged();
    } catch (e) {
      setError(asApiError(e));
      setConfirmDelete(false);
    }
  };
  return (
    <li className="card pool" data-pool={pool.name}>
      <div className="pool-head">
        <div className="pool-name">
          <h2>{pool.name}</h2>
          {pool.description && <span className="sub">{pool.description}</span>}
        </div>
        <div className="pool-slots">
          <span className="eyebrow">slots</span>
          <SlotsEditor key={pool.slots} pool={pool} onSaved={onChanged} />
        </div>
        <UsageBar pool={pool} />
        <div className="pool-actions">
          <button type="button" className="link" onClick={onToggle} aria-expanded={open}>
            {open ? 'Hide' : 'Show'} holders ({pool.holders.length})
          </button>
          {pool.name !== 'default_pool' &&
            (confirmDelete ? (
              <>
                <button type="button" className="danger" onClick={remove}>
                  Delete {pool.name}
                </button>
                <button type="button" onClick={() => setConfirmDelete(false)}>
                  Keep
                </button>
              </>
            ) : (
              <button type="button" className="link danger" onClick={() => setConfirmDelete(true)}>
                Delete…
              </button>
            ))}
        </div>
      </div>
      {error && <ErrorNotice error={error} compact />}
      {open && <Holders pool={pool} />}
    </li>
  );
}

function CreatePool({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [slots, setSlots] = useState('8');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [open, setOpen] = useState(false);
  const n = Number(slots);
  const nameOk = /^[A-Za-z0-9_.-]{1,250}$/.test(name);
  const slotsOk = Number.isInteger(n) && n >= -1;
  if (!open)
    return (
      <button type="button" className="primary" onClick={() => setOpen(true)}>
        New pool…
      </button>
    );
  return (
    <form
      className="card create-pool"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          await api.post('/pools', { name, slots: n, ...(description ? { description } : {}) });
          setName('');
          setDescription('');
          setOpen(false);
          onCreated();
        } catch (err) {
          setError(asApiError(err));
        }
      }}
    >
      <div className="field">
        <label htmlFor="pool-name">Name</label>
        <input
          id="pool-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-invalid={name !== '' && !nameOk}
        />
        {name !== '' && !nameOk && <span className="field-error">letters, digits, _ . - only</span>}
      </div>
      <div className="field">
        <label htmlFor="pool-slots">Slots</label>
        <input
          id="pool-slots"
          type="number"
          min={-1}
          value={slots}
          onChange={(e) => setSlots(e.target.value)}
        />
      </div>
      <div className="field grow">
        <label htmlFor="pool-desc">Description</label>
        <input id="pool-desc" value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={!nameOk || !slotsOk}>
          Create
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      {error && <ErrorNotice error={error} compact />}
    </form>
  );
}

function PoolsPage({ route }: { route: Route }) {
  const api = useApi();
  const pools = usePoll<Page<Pool>>('pools', () => api.get('/pools', { limit: 1000 }), 2500);
  const expanded = new Set((route.params.get('pool') ?? '').split(',').filter(Boolean));
  const toggle = (name: string) => {
    const next = new Set(expanded);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    updateParams(route, { pool: [...next].join(',') || null });
  };
  const totals = (pools.data?.items ?? []).reduce(
    (t, p) => ({ running: t.running + p.running, queued: t.queued + p.queued }),
    { running: 0, queued: 0 },
  );
  return (
    <main className="page">
      <div className="page-head">
        <h1>Pools</h1>
        <span className="muted">
          {totals.running} slots running, {totals.queued} queued across every pool
        </span>
        <span className="spacer" />
        <CreatePool onCreated={pools.refresh} />
      </div>
      {pools.error && <ErrorNotice error={pools.error} onRetry={pools.refresh} />}
      {pools.loading && !pools.data && <p className="muted">Loading pools…</p>}
      <ul className="pool-list">
        {pools.data?.items.map((p) => (
          <PoolCard
            key={p.name}
            pool={p}
            open={expanded.has(p.name)}
            onToggle={() => toggle(p.name)}
            onChanged={pools.refresh}
          />
        ))}
      </ul>
    </main>
  );
}

export { PoolsPage };
