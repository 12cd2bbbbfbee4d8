/** From what a DAG author wrote as `schedule` to a ScheduleSpec, or a message naming what is wrong. */
import { parseDuration } from '../duration.ts';
import type { ScheduleSpec } from '../manifest.ts';
import { parseCron } from './cron-pattern.ts';
import { isValidTimezone } from './zone-clock.ts';

/** Airflow's `cron_presets` (`@once` and `None` are separate kinds). */
const PRESETS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

type Normalized = { ok: true; schedule: ScheduleSpec } | { ok: false; message: string };

function fromString(text: string, timezone: string, style: 'interval' | 'trigger'): Normalized {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  if (lower === 'none') return { ok: true, schedule: { kind: 'none' } };
  if (lower === '@once') return { ok: true, schedule: { kind: 'once' } };
  if (lower === '@continuous') {
    return { ok: false, message: '"@continuous" is not supported: use a cron expression or { every: ... }' };
  }
  let expression = trimmed;
  if (trimmed.startsWith('@')) {
    const preset = PRESETS[lower];
    if (!preset) {
      return {
        ok: false,
        message: `"${trimmed}" is not a known preset (use ${[...Object.keys(PRESETS), '@once'].join(', ')})`,
      };
    }
    expression = preset;
  }
  const parsed = parseCron(expression);
  if (!parsed.ok) return parsed;
  return { ok: true, schedule: { kind: 'cron', expression: parsed.pattern.expression, timezone, style } };
}

function fromObject(value: object): Normalized {
  const keys = Object.keys(value);
  const extra = keys.filter((k) => k !== 'every');
  if (extra.length > 0 || !keys.includes('every')) {
    return { ok: false, message: `expected { every: <duration> }, got keys ${JSON.stringify(keys)}` };
  }
  const parsed = parseDuration((value as { every: unknown }).every);
  if (!parsed.ok) return { ok: false, message: `every: ${parsed.message}` };
  if (parsed.ms <= 0) return { ok: false, message: 'every: must be longer than 0 ms' };
  return { ok: true, schedule: { kind: 'interval', everyMs: parsed.ms } };
}

/**
 * Normalizes what a DAG author wrote (`'@daily'`, `'0 3 * * *'`, `{ every: '15m' }`, `null`, `'@once'`)
 * with the DAG's timezone; returns an error message naming what is wrong instead of throwing.
 * Cron expressions have exactly 5 fields (no seconds); presets become their expression.
 */
function normalizeSchedule(input: unknown, timezone: string, style: 'interval' | 'trigger'): Normalized {
  if (!isValidTimezone(timezone)) {
    return {
      ok: false,
      message: `timezone "${timezone}" is not a valid IANA timezone (e.g. Europe/Paris, UTC)`,
    };
  }
  if (style !== 'interval' && style !== 'trigger') {
    return { ok: false, message: `style must be 'interval' or 'trigger', got ${JSON.stringify(style)}` };
  }
  if (input === null || input === undefined) return { ok: true, schedule: { kind: 'none' } };
  if (typeof input === 'string') return fromString(input, timezone, style);
  if (typeof input === 'object' && !Array.isArray(input)) return fromObject(input);
  return {
    ok: false,
    message: `expected a cron expression, a preset such as '@daily', '@once', { every: <duration> } or null; got ${Array.isArray(input) ? 'an array' : typeof input}`,
  };
}

export { normalizeSchedule, PRESETS };
