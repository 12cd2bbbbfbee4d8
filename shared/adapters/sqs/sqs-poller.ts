/**
 * Lambda's SQS event source, in process: for local runs, where no Lambda service polls the queues.
 *
 * Up to `maxConcurrency` loops each long-poll the queue for up to `batchSize` messages and hand them to the
 * handler, one batch per loop at a time (Lambda's "maximum concurrency"). What the handler returns
 * is read as a Lambda with `ReportBatchItemFailures` would be:
 * - nothing, or no `batchItemFailures`: the whole batch succeeded;
 * - `batchItemFailures`: those messages failed, the rest succeeded;
 * - a failure naming a message that is not in the batch, or a thrown error: the whole batch failed.
 * Successes are deleted. Failures are made visible again after `retryDelaySeconds(receiveCount)`
 * (Lambda leaves them hidden for the rest of the visibility timeout; locally, waiting minutes for a
 * retry helps no one). A queue's redrive policy still moves a message to its DLQ after
 * `maxReceiveCount` receives.
 *
 * `stop()` ends the long polls, lets batches already handed out finish (their deletes included),
 * and resolves when nothing is left running. `kill()` is what a crash does instead: the polls end
 * and the batches in flight are abandoned, neither deleted nor released, so their messages come
 * back when their visibility timeout ends.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from '#ports';

/** One message as Lambda's SQS event hands it over (the fields Updraft uses). */
interface SqsRecord {
  messageId: string;
  body: string;
  receiptHandle: string;
  attributes: { ApproximateReceiveCount: string };
}

interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** Anything without a `batchItemFailures` list (nothing at all, say) means every record succeeded. */
type SqsBatchHandler = (records: SqsRecord[]) => Promise<unknown>;

interface SqsPollerOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsBatchHandler;
  /** Messages per batch, 1 to 10 (one ReceiveMessage). @default 10 */
  batchSize?: number;
  /** Batches being handled at once. @default 2 (Lambda's minimum maximum concurrency) */
  maxConcurrency?: number;
  /**
   * Loops kept polling while the queue is idle. Like Lambda's pollers, more are started as
   * messages come (a loop that receives some starts another before it handles them, up to
   * `maxConcurrency`) and a loop whose poll comes back empty ends while more than these are left:
   * an idle queue is not watched by dozens of long polls that every new message wakes at once.
   * @default 1
   */
  idleLoops?: number;
  /** Overrides the queue's visibility timeout for received messages. @default the queue's */
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait, 0 to 20. @default 20 */
  waitTimeSeconds?: number;
  /** When a failed message becomes visible again. @default 2^(receiveCount-1) s, at most 60 s */
  retryDelaySeconds?: (receiveCount: number) => number;
  logger?: Pick<Logger, 'warn' | 'error'>;
}

const consoleLogger: Pick<Logger, 'warn' | 'error'> = {
  warn: (message, extra) => console.warn(message, extra ?? ''),
  error: (message, extra) => console.error(message, extra ?? ''),
};

function defaultRetryDelay(receiveCount: number): number {
  return Math.min(60, 2 ** Math.max(0, receiveCount - 1));
}

function toRecord(message: Message): SqsRecord {
  return {
    messageId: message.MessageId!,
    body: message.Body ?? '',
    receiptHandle: message.ReceiptHandle!,
    attributes: { ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1' },
  };
}

/** The ids of the failed records; all of them when a failure is not one of the batch's messages. */
function failedIds(response: unknown, records: SqsRecord[]): Set<string> {
  const failures = (response as Partial<SqsBatchResponse> | null | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const all = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id: unknown = failure?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

class SqsPoller {
  readonly #options: SqsPollerOptions;
  readonly #logger: Pick<Logger, 'warn' | 'error'>;
  /** Aborted by `stop()` and `kill()`: the loops end. */
  readonly #stopping = new AbortController();
  /** Aborted by `kill()` only: requests in flight are cut off. */
  readonly #abort = new AbortController();
  readonly #loops = new Set<Promise<void>>();
  #killed = false;

  constructor(options: SqsPollerOptions) {
    const batchSize = options.batchSize ?? 10;
    const wait = options.waitTimeSeconds ?? 20;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
      throw new RangeError(`batchSize must be a whole number from 1 to 10, got ${batchSize}`);
    }
    if (!Number.isInteger(wait) || wait < 0 || wait > 20) {
      throw new RangeError(`waitTimeSeconds must be a whole number from 0 to 20, got ${wait}`);
    }
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger;
    // Every loop listens on these signals.
    const listeners = Math.max(10, 2 * (options.maxConcurrency ?? 2));
    setMaxListeners(listeners, this.#abort.signal);
    setMaxListeners(listeners, this.#stopping.signal);
  }

  /** Loops running now (polling or handling a batch). */
  get loops(): number {
    return this.#loops.size;
  }

  /** Starts polling; calling it again while running does nothing. */
  start(): void {
    if (this.#loops.size > 0 || this.#stopping.signal.aborted) return;
    for (let i = 0; i < Math.min(this.#idleLoops, this.#maxLoops); i += 1) this.#spawn();
  }

  /**
   * Stops polling and resolves once every batch already received has been handled. A long poll
   * still waiting is not cut off (an emulator, and sometimes SQS, would still hand it messages
   * nobody reads, hidden for the whole visibility timeout): it is left to end, and whatever it
   * receives is made visible again at once for the next consumer.
   */
  async stop(): Promise<void> {
    this.#stopping.abort();
    while (this.#loops.size > 0) await Promise.all(this.#loops);
  }

  /**
   * As if the process died: polling ends at once and nothing more is sent for the batches in
   * flight (what their handlers return is ignored). Does not wait for them.
   */
  kill(): void {
    this.#killed = true;
    this.#stopping.abort();
    this.#abort.abort();
  }

  get #maxLoops(): number {
    return Math.max(1, this.#options.maxConcurrency ?? 2);
  }

  get #idleLoops(): number {
    return Math.max(1, this.#options.idleLoops ?? 1);
  }

  #spawn(): void {
    const loop = this.#loop().finally(() => this.#loops.delete(loop));
    this.#loops.add(loop);
  }

  async #loop(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      let messages: Message[] | null;
      try {
        messages = await this.#receiveUnlessStopped(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#logger.warn('SQS receive failed; polling again in 1 s', {
          queueUrl: this.#options.queueUrl,
          error: String(error),
        });
        await sleep(1_000, undefined, { signal }).catch(() => {});
        continue;
      }
      if (messages === null) return;
      if (messages.length > 0) {
        // More may be waiting: someone polls while this batch is handled.
        if (this.#loops.size < this.#maxLoops && !signal.aborted) this.#spawn();
        await this.#handle(messages.map(toRecord));
      } else if (this.#loops.size > this.#idleLoops) return;
      else if ((this.#options.waitTimeSeconds ?? 20) === 0)
        await sleep(50, undefined, { signal }).catch(() => {});
    }
  }

  /** The next messages, or null once stopping; messages that arrive after that are released. */
  async #receiveUnlessStopped(stopping: AbortSignal): Promise<Message[] | null> {
    const received = this.#receive();
    let onStop = () => {};
    const stopped = new Promise<null>((resolve) => {
      onStop = () => resolve(null);
      if (stopping.aborted) onStop();
      else stopping.addEventListener('abort', onStop, { once: true });
    });
    const first = await Promise.race([received, stopped]).finally(() =>
      stopping.removeEventListener('abort', onStop),
    );
    if (first !== null) return first;
    void received.then(
      (late) => (this.#killed ? undefined : this.#release(late.map(toRecord), () => 0)),
      () => {},
    );
    return null;
  }

  async #receive(): Promise<Message[]> {
    const { client, queueUrl, batchSize, visibilityTimeoutSeconds, waitTimeSeconds } = this.#options;
    const response = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: batchSize ?? 10,
        WaitTimeSeconds: waitTimeSeconds ?? 20,
        VisibilityTimeout: visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal: this.#abort.signal },
    );
    return response.Messages ?? [];
  }

  async #handle(records: SqsRecord[]): Promise<void> {
    let failed: Set<string>;
    try {
      failed = failedIds(await this.#options.handler(records), records);
    } catch (error) {
      this.#logger.error('SQS batch handler threw; every message of the batch failed', {
        queueUrl: this.#options.queueUrl,
        error: String(error),
      });
      failed = new Set(records.map((r) => r.messageId));
    }
    if (this.#killed) return;
    const succeeded = records.filter((r) => !failed.has(r.messageId));
    const retried = records.filter((r) => failed.has(r.messageId));
    await Promise.all([this.#delete(succeeded), this.#release(retried)]);
  }

  async #delete(records: SqsRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      const response = await this.#options.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#options.queueUrl,
          Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (response.Failed?.length) {
        this.#logger.warn('SQS delete failed for some messages; they will be delivered again', {
          queueUrl: this.#options.queueUrl,
          failed: response.Failed.map((f) => f.Code),
        });
      }
    } catch (error) {
      this.#logger.warn('SQS delete failed; the batch will be delivered again', {
        queueUrl: this.#options.queueUrl,
        error: String(error),
      });
    }
  }

  async #release(
    records: SqsRecord[],
    delay: (receiveCount: number) => number = this.#options.retryDelaySeconds ?? defaultRetryDelay,
  ): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.#options.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.#options.queueUrl,
          Entries: records.map((r, i) => ({
            Id: String(i),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: Math.max(0, Math.round(delay(Number(r.attributes.ApproximateReceiveCount)))),
          })),
        }),
      );
    } catch (error) {
      // The messages come back anyway, when their visibility timeout ends.
      this.#logger.warn('SQS change of visibility failed', {
        queueUrl: this.#options.queueUrl,
        error: String(error),
      });
    }
  }
}

export { type SqsBatchHandler, type SqsBatchResponse, SqsPoller, type SqsPollerOptions, type SqsRecord };
