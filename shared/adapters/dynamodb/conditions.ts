/**
 * DynamoDB condition expressions, built from named sub-conditions so each can be read, tested as a
 * string (test/unit/adapters/dynamodb-conditions.test.ts) and proven on DynamoDB Local
 * (test/integration/dynamodb/). Placeholders follow one convention: `#x` names the attribute `x`,
 * so `expression()` derives the name map and keeps only the values an expression uses (DynamoDB
 * rejects unused ones).
 *
 * DynamoDB rejects arithmetic in conditions, so "there is room for n more" is `used <= :max` with
 * `:max = limit − n` computed in code (`maxBefore`).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** No item under this key yet. */
const itemAbsent = 'attribute_not_exists(pk)';
/** An item exists under this key. */
const itemPresent = 'attribute_exists(pk)';
/** The item was written by this schema version (never overwrite what a newer Updraft wrote). */
const knownVersion = '#v = :v';
/** A put or upsert may create the item, or replace one this code understands. */
const absentOrKnown = `${itemAbsent} OR ${knownVersion}`;

/** A task instance still in the state and try the writer read. */
const tiStillAsRead = '#state = :expectedState AND #tryNumber = :expectedTry';
/** A run still in the state the writer read. */
const runStillAsRead = '#state = :expectedState';
/** A DAG record unchanged since the writer read it (optimistic lock). */
const dagUnchanged = '#updatedAt = :expectedUpdatedAt';
/** A backfill at the revision the writer read (an item written before revisions reads as revision 0). */
const backfillAtRevision = '#revision = :expectedRevision';
const backfillBeforeRevisions = 'attribute_not_exists(#revision)';
/** A run whose task instances are still being written (large runs only). */
const runIncomplete = '#tisComplete = :false';

/** A counter with room for the amount this write adds (`:max` = limit − amount, computed in code). */
const counterHasRoom = 'attribute_not_exists(#used) OR #used <= :max';
/** A counter holding at least what this write takes away: failing it means a double release. */
const counterCanLower = '#used >= :amount';
/** A counter not changed since the reconciler read it (every change moves `ver`). */
const counterUnchanged = '#ver = :seenVer';

/** A task instance still listed under the partition it was read from (claim index or a parking lot). */
const stillListedUnder = '#claimPk = :listedUnder';
/** A parking flag untouched since it was read (see parking.ts). */
const groupUntouched = '#parkedAt = :seenTouchedAt';
/** A task instance still scheduled, in whatever try (parking moves it between claim partitions). */
const stillScheduled = '#state = :scheduled';
/** Listed where it was read, or waiting in a ready list (scheduled, listed nowhere itself: ready.ts). */
const listedUnderOrUnlisted = `${stillListedUnder} OR attribute_not_exists(#claimPk)`;

/** Joins conditions with AND, each in parentheses. */
function both(...conditions: string[]): string {
  return conditions.map((c) => `(${c})`).join(' AND ');
}

/**
 * `:max` for a counter raised by `amount` under `limit`, or null when the raise can never fit.
 * Null must be handled in code, without a write: `attribute_not_exists(#used)` would otherwise
 * admit the first raise of a counter item that does not exist yet, even under a limit of 0.
 */
function maxBefore(limit: number, amount: number): number | null {
  const max = limit - amount;
  return max < 0 ? null : max;
}

export interface Expression {
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

/**
 * The request fields for an update and/or condition: `#x` placeholders map to attribute `x`, and
 * only the values the expressions use are sent. A missing value is a bug and throws.
 */
function expression(
  parts: { update?: string; condition?: string; keyCondition?: string },
  values: Record<string, AttributeValue> = {},
): Expression & { KeyConditionExpression?: string } {
  const text = [parts.update, parts.condition, parts.keyCondition].filter(Boolean).join(' ');
  const names: Record<string, string> = {};
  for (const [, name] of text.matchAll(/#(\w+)/g)) names[`#${name}`] = name!;
  const used: Record<string, AttributeValue> = {};
  for (const [token] of text.matchAll(/:\w+/g)) {
    const value = values[token];
    if (value === undefined) throw new Error(`expression uses ${token} but no value was given: ${text}`);
    used[token] = value;
  }
  return {
    ...(parts.update && { UpdateExpression: parts.update }),
    ...(parts.condition && { ConditionExpression: parts.condition }),
    ...(parts.keyCondition && { KeyConditionExpression: parts.keyCondition }),
    ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
    ...(Object.keys(used).length > 0 && { ExpressionAttributeValues: used }),
  };
}

/** `expression` for an UpdateItem (or a transaction's Update), whose update expression is required. */
function updateExpression(
  update: string,
  condition: string | undefined,
  values: Record<string, AttributeValue> = {},
): Expression & { UpdateExpression: string } {
  return { ...expression({ update, ...(condition && { condition }) }, values), UpdateExpression: update };
}

export {
  absentOrKnown,
  backfillAtRevision,
  backfillBeforeRevisions,
  both,
  counterCanLower,
  counterHasRoom,
  counterUnchanged,
  dagUnchanged,
  expression,
  groupUntouched,
  itemAbsent,
  itemPresent,
  knownVersion,
  listedUnderOrUnlisted,
  maxBefore,
  runIncomplete,
  runStillAsRead,
  stillListedUnder,
  stillScheduled,
  tiStillAsRead,
  updateExpression,
};
