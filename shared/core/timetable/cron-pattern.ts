/**
 * A 5-field cron expression, parsed by cron-parser and iterated on naive (wall-clock) time.
 *
 * cron-parser does the parsing and decides which calendar days match (its `includesDate`, so `L`,
 * `#`, and the day-of-month OR day-of-week rule are its own). Stepping from one fire time to the
 * next is done here over the expanded hour and minute lists and a per-year bitmap of matching days:
 * cron-parser's own iterator costs ~75 µs a step, too slow for a scheduler that asks thousands of
 * times per simulated day and for enumerating long backfills.
 *
 * Only 5-field expressions are accepted. A sixth field means seconds in cron-parser but is read
 * differently by other tools (croniter, which Airflow uses, takes the 6th field as seconds *after*
 * the day of week), so rather than guess, Updraft rejects it. `H` (hashed values) is rejected too:
 * without a fixed seed it would pick a different minute on every parse.
 */
import { type CronExpression, CronExpressionParser } from 'cron-parser';
import { DAY_MS } from './zone-clock.ts';

const FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;
const ALIASES = /jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat/gi;
/** Searching further than this for a matching day means the expression never fires again. */
const MAX_SEARCH_YEARS = 50;

class CronPattern {
  /** The expression with single spaces, as stored in the manifest. */
  readonly expression: string;
  readonly fields: readonly string[];
  /** Every hour of the day matches: DST is handled as a delta from the current instant (§9.3). */
  readonly everyHour: boolean;
  /** Matching times of day (ms after midnight), ascending. */
  readonly times: readonly number[];
  readonly #cron: CronExpression;
  readonly #everyDay: boolean;
  readonly #years = new Map<number, { firstDay: number; matches: Uint8Array }>();

  constructor(expression: string, fields: readonly string[], cron: CronExpression) {
    this.expression = expression;
    this.fields = fields;
    this.#cron = cron;
    const { minute, hour, dayOfMonth, dayOfWeek, month } = cron.fields;
    const times: number[] = [];
    for (const h of hour.values) for (const m of minute.values) times.push((h * 60 + m) * 60_000);
    this.times = times.sort((a, b) => a - b);
    this.everyHour = hour.values.length === 24;
    this.#everyDay = dayOfMonth.isWildcard && dayOfWeek.isWildcard && month.values.length === 12;
  }

  /** First fire time strictly after naive instant `n`, or null if there is none. */
  nextNaive(n: number): number | null {
    const day = Math.floor(n / DAY_MS);
    const tod = n - day * DAY_MS;
    const times = this.times;
    if (this.#dayMatches(day)) {
      // Binary search: first time > tod.
      let lo = 0;
      let hi = times.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((times[mid] as number) > tod) hi = mid;
        else lo = mid + 1;
      }
      if (lo < times.length) return day * DAY_MS + (times[lo] as number);
    }
    const next = this.#matchingDay(day + 1, 1);
    return next === null ? null : next * DAY_MS + (times[0] as number);
  }

  /** Last fire time strictly before naive instant `n`, or null if there is none. */
  prevNaive(n: number): number | null {
    const day = Math.floor(n / DAY_MS);
    const tod = n - day * DAY_MS;
    const times = this.times;
    if (this.#dayMatches(day)) {
      // Binary search: last time < tod.
      let lo = 0;
      let hi = times.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((times[mid] as number) < tod) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) return day * DAY_MS + (times[lo - 1] as number);
    }
    const prev = this.#matchingDay(day - 1, -1);
    return prev === null ? null : prev * DAY_MS + (times[times.length - 1] as number);
  }

  #dayMatches(day: number): boolean {
    if (this.#everyDay) return true;
    const year = this.#year(new Date(day * DAY_MS).getUTCFullYear());
    return year.matches[day - year.firstDay] === 1;
  }

  /** The nearest matching day from `day` on, stepping by `step` (1 or −1). */
  #matchingDay(day: number, step: 1 | -1): number | null {
    if (this.#everyDay) return day;
    let y = new Date(day * DAY_MS).getUTCFullYear();
    let d = day;
    for (let searched = 0; searched <= MAX_SEARCH_YEARS; searched++, y += step) {
      const { firstDay, matches } = this.#year(y);
      let i = step === 1 ? Math.max(d - firstDay, 0) : Math.min(d - firstDay, matches.length - 1);
      for (; i >= 0 && i < matches.length; i += step) if (matches[i] === 1) return firstDay + i;
      d = step === 1 ? firstDay + matches.length : firstDay - 1;
    }
    return null;
  }

  #year(year: number): { firstDay: number; matches: Uint8Array } {
    const cached = this.#years.get(year);
    if (cached) return cached;
    const firstDay = Date.UTC(year, 0, 1) / DAY_MS;
    const days = Date.UTC(year + 1, 0, 1) / DAY_MS - firstDay;
    const matches = new Uint8Array(days);
    const firstTime = this.times[0] as number;
    for (let i = 0; i < days; i++) {
      if (this.#cron.includesDate(new Date((firstDay + i) * DAY_MS + firstTime))) matches[i] = 1;
    }
    const entry = { firstDay, matches };
    this.#years.set(year, entry);
    return entry;
  }
}

function describeParserError(message: string, field: string, text: string): string {
  const range = /got value (\S+) expected range (\S+)/.exec(message);
  if (range) return `${field} ${range[1]} out of range ${range[2]}`;
  const detail = message.replace(/^(Constraint|Validation) error, /, '').replace(/\.$/, '');
  return `${field} "${text}": ${detail}`;
}

function tryParse(expression: string): { ok: true; cron: CronExpression } | { ok: false; message: string } {
  try {
    return { ok: true, cron: CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: 0 }) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/** The reason a 5-field expression is invalid, naming the field when one field alone is at fault. */
function explain(fields: readonly string[], parserMessage: string): string {
  for (let i = 0; i < fields.length; i++) {
    const probe = fields.map((f, j) => (j === i ? f : '*')).join(' ');
    const result = tryParse(probe);
    if (!result.ok) return describeParserError(result.message, FIELD_NAMES[i] as string, fields[i] as string);
  }
  if (/day of month/i.test(parserMessage)) return 'that day of month never occurs in the given month';
  return parserMessage;
}

const patterns = new Map<string, CronPattern>();

/** Parses a 5-field cron expression (presets are expanded by the caller). Cached by expression. */
function parseCron(input: string): { ok: true; pattern: CronPattern } | { ok: false; message: string } {
  const fields = input.trim().split(/\s+/).filter(Boolean);
  const expression = fields.join(' ');
  const cached = patterns.get(expression);
  if (cached) return { ok: true, pattern: cached };
  const invalid = (why: string) => ({
    ok: false as const,
    message: `"${input}" is not a valid cron expression: ${why}`,
  });
  if (fields.length !== 5) {
    const seconds = fields.length === 6 || fields.length === 7 ? '; seconds are not supported' : '';
    return invalid(
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}${seconds}`,
    );
  }
  const hashed = fields.findIndex((f) => /h/i.test(f.replace(ALIASES, '')));
  if (hashed >= 0)
    return invalid(`${FIELD_NAMES[hashed]} "${fields[hashed]}": H (hashed values) is not supported`);
  const parsed = tryParse(expression);
  if (!parsed.ok) return invalid(explain(fields, parsed.message));
  const pattern = new CronPattern(expression, fields, parsed.cron);
  patterns.set(expression, pattern);
  return { ok: true, pattern };
}

export type { CronPattern };
export { parseCron };
