/**
 * Trigger rules (SEMANTICS.md §6), in scheduler mode: besides "passes", many rules set a final state
 * before every upstream has finished (fail-fast). Counts are over DIRECT upstream task instances.
 */
import type { TriggerRule } from './manifest.ts';
import { assertNever } from './states.ts';

export interface UpstreamCounts {
  /** Number of direct upstream task instances. */
  upstream: number;
  success: number;
  failed: number;
  skipped: number;
  upstreamFailed: number;
  removed: number;
}

export interface RuleVerdict {
  passes: boolean;
  /** A state the task instance takes without running (fail-fast), or null. */
  setState: 'skipped' | 'upstream_failed' | null;
}

const PASS: RuleVerdict = { passes: true, setState: null };
const WAIT: RuleVerdict = { passes: false, setState: null };
const SKIP: RuleVerdict = { passes: false, setState: 'skipped' };
const UPSTREAM_FAILED: RuleVerdict = { passes: false, setState: 'upstream_failed' };

/**
 * Whether a task instance may run given its direct upstream, and the state it takes instead when
 * it never can (scheduler mode, `flag_upstream_failed=True`). `always` and tasks without upstream
 * pass at once. A removed upstream counts as finished but never as a success, so `all_success`,
 * `none_failed` and `all_failed` wait on it forever (the run then ends as deadlocked, as in Airflow).
 */
function evaluateTriggerRule(rule: TriggerRule, c: UpstreamCounts): RuleVerdict {
  if (c.upstream === 0 || rule === 'always') return PASS;
  const finished = c.success + c.failed + c.skipped + c.upstreamFailed + c.removed;
  const done = finished >= c.upstream;
  const failures = c.failed + c.upstreamFailed;
  switch (rule) {
    case 'all_success':
      if (failures > 0) return UPSTREAM_FAILED;
      if (c.skipped > 0) return SKIP;
      return c.success >= c.upstream ? PASS : WAIT;
    case 'all_failed':
      if (c.success + c.skipped > 0) return SKIP;
      return failures >= c.upstream ? PASS : WAIT;
    case 'all_done':
      return done ? PASS : WAIT;
    case 'all_skipped':
      if (c.success + failures > 0) return SKIP;
      return c.skipped >= c.upstream ? PASS : WAIT;
    case 'one_success':
      if (c.success > 0) return PASS;
      if (done) return finished === c.skipped ? SKIP : UPSTREAM_FAILED;
      return WAIT;
    case 'one_failed':
      if (failures > 0) return PASS;
      return done ? SKIP : WAIT;
    case 'one_done':
      if (c.success + c.failed > 0) return PASS;
      return done ? SKIP : WAIT;
    case 'none_failed':
      if (failures > 0) return UPSTREAM_FAILED;
      return c.success + c.skipped >= c.upstream ? PASS : WAIT;
    case 'none_failed_min_one_success':
      if (failures > 0) return UPSTREAM_FAILED;
      if (c.skipped >= c.upstream) return SKIP;
      return c.success + c.skipped >= c.upstream ? PASS : WAIT;
    case 'none_skipped':
      if (c.skipped > 0) return SKIP;
      return done ? PASS : WAIT;
    default:
      return assertNever(rule, 'trigger rule');
  }
}

export { evaluateTriggerRule };
