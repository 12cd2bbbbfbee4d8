/**
 * One Duration type for retryDelay, executionTimeout, maxRetryDelay, sensor intervals and limits.
 * A number is milliseconds; a string is a number with a unit: `500ms`, `30s`, `5m`, `2h`, `1d`.
 */

export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses a Duration to milliseconds; returns an error message instead of throwing. */
function parseDuration(value: unknown): { ok: true; ms: number } | { ok: false; message: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { ok: false, message: `must be ≥ 0 ms, got ${value}` };
    return { ok: true, ms: Math.round(value) };
  }
  if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (!match)
      return { ok: false, message: `"${value}" is not a duration (use e.g. 500ms, 30s, 5m, 2h, 1d)` };
    const unit = match[2] as keyof typeof UNIT_MS;
    return { ok: true, ms: Math.round(Number(match[1]) * UNIT_MS[unit]) };
  }
  return { ok: false, message: `expected a duration, got ${typeof value}` };
}

function durationMs(value: Duration): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.ms;
}

/** `90000` → `1m30s`, for messages and reports. */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return [d && `${d}d`, h && `${h}h`, m && `${m}m`, s && `${s}s`].filter(Boolean).join('') || '0s';
}

export { durationMs, formatDuration, parseDuration };
