/**
 * How a DAG's wake-up is written for EventBridge Scheduler: the schedule's name and its `at()`
 * expression. Pure functions, so their edge cases are unit-tested without a client.
 */
import { createHash } from 'node:crypto';

/** EventBridge Scheduler's limit on schedule names. */
const MAX_NAME_LENGTH = 64;
const HASH_LENGTH = 8;

/**
 * The one schedule name of a DAG: the dagId with characters outside `[0-9A-Za-z._-]` replaced by
 * `_`, cut to 64 characters. Whenever the name is not the dagId itself (cut or changed), it ends
 * with `-` and 8 hex characters of the dagId's SHA-256, so that two DAGs never share a schedule.
 */
function scheduleName(dagId: string): string {
  const clean = dagId.replace(/[^0-9A-Za-z._-]/g, '_');
  if (clean === dagId && clean.length > 0 && clean.length <= MAX_NAME_LENGTH) return clean;
  const hash = createHash('sha256').update(dagId).digest('hex').slice(0, HASH_LENGTH);
  return `${clean.slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1)}-${hash}`;
}

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the whole second: a wake-up may come late, never
 * early (a scheduler woken early finds nothing due and sets the same wake-up again).
 */
function atExpression(at: number): string {
  const seconds = Math.ceil(at / 1000) * 1000;
  return `at(${new Date(seconds).toISOString().slice(0, 19)})`;
}

/** The instant of an `at()` expression written by `atExpression` (UTC). */
function parseAtExpression(expression: string): number | null {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  return match ? Date.parse(`${match[1]}Z`) : null;
}

export { atExpression, MAX_NAME_LENGTH, parseAtExpression, scheduleName };
