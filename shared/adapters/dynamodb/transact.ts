/**
 * One TransactWriteItems, with DynamoDB's failures sorted into what the caller can act on:
 * committed; cancelled with a reason per action (and, for a failed condition, the item as it was);
 * or worth retrying (a conflict with another transaction, throttling, a time-out). A retry of the
 * same actions reuses the request token, so a transaction that committed before its reply was lost
 * is not applied twice (DynamoDB remembers tokens for ten minutes).
 */
import { randomUUID } from 'node:crypto';
import {
  type DynamoDBClient,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { Item } from './marshal.ts';

/** DynamoDB's limit on actions per transaction. */
const MAX_ACTIONS = 100;
/** Attempts before a batch still meeting conflicts or throttling is given up. */
const MAX_ATTEMPTS = 8;

export interface Cancellation {
  code: string;
  /** The item before the transaction, for a failed condition (ReturnValuesOnConditionCheckFailure). */
  item: Item | undefined;
}

export type TransactOutcome =
  | { kind: 'committed' }
  | { kind: 'cancelled'; reasons: Cancellation[] }
  | { kind: 'retry'; why: string };

/** Errors that leave the transaction not applied (or applied, for a time-out) and are worth retrying. */
const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/** Cancellation codes other than a failed condition that mean "try again". */
const RETRYABLE_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

async function transact(
  client: DynamoDBClient,
  actions: TransactWriteItem[],
  token: string,
): Promise<TransactOutcome> {
  try {
    await client.send(new TransactWriteItemsCommand({ TransactItems: actions, ClientRequestToken: token }));
    return { kind: 'committed' };
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const reasons = (error.CancellationReasons ?? []).map((r) => ({
        code: r.Code ?? 'None',
        item: r.Item as Item | undefined,
      }));
      const conditionFailed = reasons.some((r) => r.code === 'ConditionalCheckFailed');
      const retryable = reasons.find((r) => RETRYABLE_CODES.has(r.code));
      if (!conditionFailed && retryable) return { kind: 'retry', why: retryable.code };
      if (!conditionFailed) throw error;
      return { kind: 'cancelled', reasons };
    }
    if (error instanceof Error && RETRYABLE.has(error.name)) return { kind: 'retry', why: error.name };
    throw error;
  }
}

/** Full-jitter exponential backoff: up to 20 ms, 40 ms, … 2.5 s (patient enough for a loaded CI machine). */
function backoff(attempt: number): Promise<void> {
  const ceiling = 20 * 2 ** Math.min(attempt, 7);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

const newToken = () => randomUUID();

/** Adds ALL_OLD to every conditional action, so a cancellation says what each item looked like. */
function withOldItems(action: TransactWriteItem): TransactWriteItem {
  const all = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
  if (action.Put) return { Put: { ...action.Put, ...all } };
  if (action.Update) return { Update: { ...action.Update, ...all } };
  if (action.Delete) return { Delete: { ...action.Delete, ...all } };
  if (action.ConditionCheck) return { ConditionCheck: { ...action.ConditionCheck, ...all } };
  return action;
}

export { backoff, MAX_ACTIONS, MAX_ATTEMPTS, newToken, transact, withOldItems };
