/**
 * A DynamoDB client that misbehaves the ways the real service does: transaction conflicts,
 * throttling, and time-outs that arrive after the write committed. Seeded, so a failure replays.
 */
import {
  BatchGetItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { mulberry32 } from '#simulator/timeline.ts';

export interface Faults {
  /** Probability that a transaction is cancelled with TransactionConflict before it is applied. */
  conflict: number;
  /** Probability that any request is throttled before it is applied. */
  throttle: number;
  /** Probability that a transaction is applied but its caller sees a time-out. */
  timeoutAfterCommit: number;
}

class FaultyDynamoDbClient extends DynamoDBClient {
  readonly injected = { conflict: 0, throttle: 0, timeoutAfterCommit: 0 };
  readonly #faults: Faults;
  readonly #random: () => number;

  constructor(config: DynamoDBClientConfig, faults: Faults, seed: number) {
    super(config);
    this.#faults = faults;
    this.#random = mulberry32(seed);
  }

  // biome-ignore lint/suspicious/noExplicitAny: the SDK's send is heavily overloaded; this wraps every form.
  override async send(command: any, ...rest: any[]): Promise<any> {
    const transaction = command instanceof TransactWriteItemsCommand;
    if (this.#random() < this.#faults.throttle) {
      this.injected.throttle += 1;
      throw new ProvisionedThroughputExceededException({ message: 'injected throttling', $metadata: {} });
    }
    if (transaction && this.#random() < this.#faults.conflict) {
      this.injected.conflict += 1;
      const n = (command.input.TransactItems ?? []).length;
      throw new TransactionCanceledException({
        message: 'injected conflict',
        $metadata: {},
        CancellationReasons: Array.from({ length: n }, (_, i) => ({
          Code: i === 0 ? 'TransactionConflict' : 'None',
        })),
      });
    }
    const result = await super.send(command, ...rest);
    if (transaction && this.#random() < this.#faults.timeoutAfterCommit) {
      this.injected.timeoutAfterCommit += 1;
      throw Object.assign(new Error('injected time-out after commit'), { name: 'TimeoutError' });
    }
    return result;
  }
}

export { FaultyDynamoDbClient };

/** How long a sabotaged client holds counter reads back: long enough for other claims to land meanwhile. */
const STALE_READ_MS = 30;

/**
 * A client that strips the room condition from every counter raise of a claim transaction, as if
 * the store had forgotten it: a race through it must show the observer exceeded limits (so the
 * race can fail). Its counter reads also come back empty (`used` 0) and late (STALE_READ_MS), so
 * every pass claims as if nothing were held: without that, whether two passes overlapped with stale
 * counts was left to the pacing, and on an idle machine a sabotaged race could end with no
 * violation at all (seen in a landing run), so the proof that the race can fail depended on luck.
 */
class SabotagedDynamoDbClient extends DynamoDBClient {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's send is heavily overloaded; this wraps every form.
  override async send(command: any, ...rest: any[]): Promise<any> {
    if (command instanceof BatchGetItemCommand) {
      const keys = Object.values(command.input.RequestItems ?? {}).flatMap((r) => r.Keys ?? []);
      const out = await super.send(command, ...rest);
      if (!keys.some((k) => String(k.pk?.S).startsWith('CTR#'))) return out;
      // The counters read back as empty: every pass believes each pool, DAG and task has all its room.
      for (const items of Object.values(out.Responses ?? {}))
        for (const item of items as Record<string, { S?: string; N?: string }>[])
          if (String(item.pk?.S).startsWith('CTR#') && item.used) item.used = { N: '0' };
      await new Promise((resolve) => setTimeout(resolve, STALE_READ_MS));
      return out;
    }
    if (command instanceof TransactWriteItemsCommand) {
      for (const action of command.input.TransactItems ?? []) {
        const update = action.Update;
        if (!update?.ConditionExpression?.includes(':max')) continue;
        update.ConditionExpression = 'attribute_not_exists(pk) OR #v = :v';
        delete update.ExpressionAttributeValues?.[':max'];
      }
    }
    return super.send(command, ...rest);
  }
}

export { SabotagedDynamoDbClient };
