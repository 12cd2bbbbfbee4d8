/**
 * Wall-clock time in an IANA zone (SEMANTICS.md §9.3). A "naive" instant is a local wall time written
 * as if it were UTC: 2024-03-10 02:30 in New York is `Date.UTC(2024, 2, 10, 2, 30)` whatever the
 * offset. Cron expressions are evaluated on naive time; `fromNaive` turns the result back into a real
 * instant with Airflow's rules: a wall time skipped at spring-forward maps to the first instant after
 * the gap, a wall time repeated at fall-back maps to its second occurrence (fold=1).
 *
 * Luxon's offset lookup formats a date through Intl (~20 µs), far too slow for the thousands of
 * lookups a simulated day makes, so offsets are cached as a table of transitions per UTC year.
 */
import { IANAZone } from 'luxon';

const DAY_MS = 86_400_000;
const UTC_NAMES = /^(etc\/)?(utc|uct|gmt|gmt0|universal|zulu|greenwich)$/i;

interface YearOffsets {
  start: number;
  end: number;
  /** Offset (ms) in force at the start of the year. */
  first: number;
  /** Instants where the offset changes, ascending, with the offset from then on. */
  at: number[];
  offsets: number[];
}

class ZoneClock {
  readonly name: string;
  readonly #zone: IANAZone;
  readonly #fixed: number | null;
  readonly #years = new Map<number, YearOffsets>();
  /** The two tables used last: lookups cluster in time (often across a new year), sparing a Date per lookup. */
  #recent: YearOffsets | null = null;
  #older: YearOffsets | null = null;

  constructor(name: string) {
    if (!isValidTimezone(name)) throw new Error(`"${name}" is not an IANA timezone`);
    this.name = name;
    this.#zone = IANAZone.create(name);
    this.#fixed = UTC_NAMES.test(name) ? 0 : null;
  }

  /** Offset from UTC (ms) in force at instant `t`. */
  offsetAt(t: number): number {
    if (this.#fixed !== null) return this.#fixed;
    let table = this.#recent;
    if (table === null || t < table.start || t >= table.end) {
      const other = this.#older;
      table =
        other !== null && t >= other.start && t < other.end
          ? other
          : this.#yearTable(new Date(t).getUTCFullYear());
      this.#older = this.#recent;
      this.#recent = table;
    }
    let offset = table.first;
    for (let i = 0; i < table.at.length; i++) {
      if (t < (table.at[i] as number)) break;
      offset = table.offsets[i] as number;
    }
    return offset;
  }

  /** The local wall time of instant `t`, as a naive instant. */
  toNaive(t: number): number {
    return t + this.offsetAt(t);
  }

  /**
   * The real instant of naive wall time `n`: in a spring-forward gap, the first instant after the gap;
   * in a fall-back fold, the later of the two instants.
   */
  fromNaive(n: number): number {
    if (this.#fixed !== null) return n - this.#fixed;
    // Real instants with wall time n lie within ±14 h of n, so the offsets a day either side
    // bracket any transition that can matter.
    const before = this.offsetAt(n - DAY_MS);
    const after = this.offsetAt(n + DAY_MS);
    const early = n - before;
    if (before === after) return early;
    const late = n - after;
    const earlyValid = this.offsetAt(early) === before;
    const lateValid = this.offsetAt(late) === after;
    if (earlyValid && lateValid) return Math.max(early, late);
    if (earlyValid) return early;
    if (lateValid) return late;
    return this.#transitionBetween(Math.min(early, late), Math.max(early, late), after);
  }

  /** Length (ms) of a fall-back fold within a day of `t`, else 0. */
  foldNear(t: number): number {
    if (this.#fixed !== null) return 0;
    return Math.max(0, this.offsetAt(t - DAY_MS) - this.offsetAt(t + DAY_MS));
  }

  /** First instant in (lo, hi] whose offset is `target` (the offset of `hi`). */
  #transitionBetween(lo: number, hi: number, target: number): number {
    let a = lo;
    let b = hi;
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2);
      if (this.offsetAt(mid) === target) b = mid;
      else a = mid;
    }
    return b;
  }

  #rawOffset(t: number): number {
    return Math.round(this.#zone.offset(t) * 60_000);
  }

  #yearTable(year: number): YearOffsets {
    const cached = this.#years.get(year);
    if (cached) return cached;
    const start = Date.UTC(year, 0, 1);
    const end = Date.UTC(year + 1, 0, 1);
    const table: YearOffsets = { start, end, first: this.#rawOffset(start), at: [], offsets: [] };
    let prevT = start;
    let prevOffset = table.first;
    // Sample once a day; zones change offset at most a few times a year, never twice in a day.
    for (let t = start + DAY_MS; t <= end; t += DAY_MS) {
      const offset = this.#rawOffset(t);
      if (offset !== prevOffset) {
        let a = prevT;
        let b = t;
        while (b - a > 1) {
          const mid = Math.floor((a + b) / 2);
          if (this.#rawOffset(mid) === offset) b = mid;
          else a = mid;
        }
        if (b < end) {
          table.at.push(b);
          table.offsets.push(offset);
        }
      }
      prevT = t;
      prevOffset = offset;
    }
    this.#years.set(year, table);
    return table;
  }
}

const clocks = new Map<string, ZoneClock>();

/** The (cached) clock of a zone; throws if the zone is not a valid IANA name. */
function zoneClock(name: string): ZoneClock {
  let clock = clocks.get(name);
  if (!clock) {
    clock = new ZoneClock(name);
    clocks.set(name, clock);
  }
  return clock;
}

const validZones = new Map<string, boolean>();

/** Whether `zone` is a valid IANA timezone name (e.g. `Europe/Paris`, `UTC`). Remembered: the lookup is slow. */
function isValidTimezone(zone: string): boolean {
  if (typeof zone !== 'string') return false;
  let valid = validZones.get(zone);
  if (valid === undefined) {
    valid = zone.trim() === zone && zone !== '' && IANAZone.isValidZone(zone);
    if (validZones.size < 1000) validZones.set(zone, valid);
  }
  return valid;
}

export type { ZoneClock };
export { DAY_MS, isValidTimezone, zoneClock };
