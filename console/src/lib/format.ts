/** Times and durations as a data engineer reads them. */

function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** 950 ms, 4.2 s, 3m 05s, 2h 10m, 3d 4h. */
function formatDuration(durationMs: number | null | undefined): string {
  if (durationMs === null || durationMs === undefined || Number.isNaN(durationMs)) return '–';
  const d = Math.max(0, durationMs);
  if (d < 1000) return `${Math.round(d)} ms`;
  if (d < 10_000) return `${(d / 1000).toFixed(1)} s`;
  if (d < 60_000) return `${Math.round(d / 1000)} s`;
  const s = Math.round(d / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
  const h = Math.round(m / 60);
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "in 4m 10s", "12 s ago", "just now". */
function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  const t = ms(iso);
  if (t === null) return '–';
  const delta = t - now;
  if (Math.abs(delta) < 1500) return 'just now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const shortDateTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

const timeOnly = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Local date and time, e.g. "Jan 5, 2026, 10:00:00". */
function formatDateTime(iso: string | null | undefined): string {
  const t = ms(iso);
  return t === null ? '–' : dateTime.format(t);
}

function formatShort(iso: string | null | undefined): string {
  const t = ms(iso);
  return t === null ? '–' : shortDateTime.format(t);
}

function formatTime(t: number): string {
  return timeOnly.format(t);
}

/** The UTC instant as the API spells it, for tooltips: 2026-01-05T00:00:00Z. */
function formatUtc(iso: string | null | undefined): string {
  const t = ms(iso);
  return t === null
    ? ''
    : `${new Date(t)
        .toISOString()
        .replace('T', ' ')
        .replace(/(\.000)?Z$/, '')} UTC`;
}

export { formatDateTime, formatDuration, formatRelative, formatShort, formatTime, formatUtc, ms };
