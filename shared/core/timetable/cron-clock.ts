/**
 * Cron fire times as real instants (SEMANTICS.md §9.3, Airflow's `CronMixin`).
 *
 * - Hour field not every hour: wall-clock semantics. The cron is evaluated on naive local time and
 *   each fire time mapped back with the zone's gap/fold rules, so `0 3 * * *` stays at 03:00 local and
 *   the interval spanning a switch lasts 23 h or 25 h.
 * - Every hour: a delta from the current instant (`t + (nextNaive − naive(t))`), so the repeated hour
 *   at fall-back runs twice and spring-forward leaves no gap: no duplicate and no missing UTC instant.
 *
 * `next` and `prev` are strict (a fire time equal to `t` is not returned). Unlike Airflow, which steps
 * from the naive time of `t`, `next` also finds a fire time in the second pass of a fold when `t` is
 * in the first one; everywhere else the two agree.
 */
import type { CronPattern } from './cron-pattern.ts';
import type { ZoneClock } from './zone-clock.ts';

/** Upper bound on naive candidates skipped by one call (only DST folds skip any). */
const MAX_STEPS = 10_000;

class CronClock {
  readonly pattern: CronPattern;
  readonly zone: ZoneClock;

  constructor(pattern: CronPattern, zone: ZoneClock) {
    this.pattern = pattern;
    this.zone = zone;
  }

  /** First fire time strictly after `t`. */
  next(t: number): number | null {
    const naive = this.zone.toNaive(t);
    if (this.pattern.everyHour) {
      const fire = this.pattern.nextNaive(naive);
      return fire === null ? null : t + (fire - naive);
    }
    // In the first pass of a fold, a naive time slightly earlier than naive(t) maps to the second pass.
    let cursor = naive - this.zone.foldNear(t);
    for (let step = 0; step < MAX_STEPS; step++) {
      const fire = this.pattern.nextNaive(cursor);
      if (fire === null) return null;
      const real = this.zone.fromNaive(fire);
      if (real > t) return real;
      cursor = fire;
    }
    return null;
  }

  /** Last fire time strictly before `t`. */
  prev(t: number): number | null {
    const naive = this.zone.toNaive(t);
    if (this.pattern.everyHour) {
      const fire = this.pattern.prevNaive(naive);
      return fire === null ? null : t - (naive - fire);
    }
    // fromNaive is monotonic and fromNaive(naive(t)) >= t, so no later naive time can map before t.
    let cursor = naive;
    for (let step = 0; step < MAX_STEPS; step++) {
      const fire = this.pattern.prevNaive(cursor);
      if (fire === null) return null;
      const real = this.zone.fromNaive(fire);
      if (real < t) return real;
      cursor = fire;
    }
    return null;
  }

  /** `t` if it is a fire time, else the next one (Airflow's `_align_to_next`). */
  alignToNext(t: number): number | null {
    const next = this.next(t);
    if (next === null) return null;
    return this.prev(next) === t ? t : next;
  }

  /** `t` if it is a fire time, else the previous one (Airflow's `_align_to_prev`). */
  alignToPrev(t: number): number | null {
    const prev = this.prev(t);
    if (prev === null) return null;
    return this.next(prev) === t ? t : prev;
  }
}

export { CronClock };
