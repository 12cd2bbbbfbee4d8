/**
 * Work done once for several callers — a group commit of try ends, a grouped send, a shared
 * downstream pass — shown to an optional observer, so that a meter can charge the wait to every
 * caller, not only to the one in whose async context the work happens to run (the local stack's
 * model of what Lambda bills: cli/dev/invocation-meter.ts). Whoever groups work calls `join()` in
 * each caller's context as it joins, and runs the group's work with `run`; without an observer it
 * just runs the work.
 */
export interface SharedWorkObserver {
  /** In a caller's async context, as it starts waiting: a token naming it (opaque). */
  join(): unknown;
  /**
   * Runs `work` on behalf of `callers` (tokens from `join`). The array is read as the work goes, so
   * a caller that starts waiting for it while it runs may be pushed onto it.
   */
  run<T>(callers: unknown[], work: () => Promise<T>): Promise<T>;
}
