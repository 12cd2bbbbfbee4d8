/**
 * Sends many messages to a standard queue with SendMessageBatch: chunks of at most 10 entries and
 * `maxBatchBytes`, a few chunks in flight at once, failed entries retried with backoff.
 *
 * SQS can accept some entries of a batch and refuse others (`Failed`, with `SenderFault` false for
 * throttling and internal errors). Those are sent again up to `maxAttempts` times; a sender fault
 * (a malformed message) is not retried. When anything is left unsent the call throws one
 * `SqsSendError` listing every label that failed, after all other chunks had their chance: the
 * messages that did go out stay sent, so a caller that retries the whole call sends duplicates,
 * which consumers must tolerate anyway (standard queues deliver at least once).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** SendMessageBatch's entry limit. */
const MAX_BATCH_ENTRIES = 10;
/** The batch payload limit this adapter keeps to (the sum of the message bodies). */
const MAX_BATCH_BYTES = 256 * 1024;

interface OutgoingMessage {
  /** What errors name the message by (a task-instance key, an event): not sent. */
  label: string;
  body: string;
}

interface SendFailure {
  label: string;
  code: string;
  message: string;
}

interface SqsSendOptions {
  /** @default 262144 (256 KiB) */
  maxBatchBytes?: number;
  /** Attempts per entry, the first included, before it counts as failed. @default 4 */
  maxAttempts?: number;
  /** First backoff between attempts; doubles each time, with full jitter. @default 100 */
  retryBaseDelayMs?: number;
  /** SendMessageBatch calls in flight at once. @default 4 */
  concurrency?: number;
}

class SqsSendError extends Error {
  override name = 'SqsSendError';
  constructor(
    readonly queueUrl: string,
    readonly failed: SendFailure[],
    options?: ErrorOptions,
  ) {
    const shown = failed
      .slice(0, 5)
      .map((f) => `${f.label} (${f.code})`)
      .join(', ');
    const more = failed.length > 5 ? ` and ${failed.length - 5} more` : '';
    super(`${failed.length} message(s) not sent to ${queueUrl}: ${shown}${more}`, options);
  }
}

function byteLength(body: string): number {
  return Buffer.byteLength(body, 'utf8');
}

/** Greedy packing in input order: a chunk closes at 10 entries or when the next body would not fit. */
function chunk(messages: OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = byteLength(message.body);
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

async function sendChunk(
  client: SQSClient,
  queueUrl: string,
  messages: OutgoingMessage[],
  opts: Required<SqsSendOptions>,
): Promise<SendFailure[]> {
  const permanent: SendFailure[] = [];
  // Entry ids are positions in the chunk: unique per request, and they map answers back to messages.
  let pending = new Map(messages.map((m, i) => [String(i), m]));
  let lastFailure = new Map<string, SendFailure>();
  for (let attempt = 1; attempt <= opts.maxAttempts && pending.size > 0; attempt += 1) {
    if (attempt > 1) await sleep(Math.random() * opts.retryBaseDelayMs * 2 ** (attempt - 2));
    const entries: SendMessageBatchRequestEntry[] = [...pending].map(([Id, m]) => ({
      Id,
      MessageBody: m.body,
    }));
    let response: SendMessageBatchCommandOutput;
    try {
      response = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    } catch (error) {
      // The SDK has already retried the call itself: what is pending now failed.
      const code = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return [...permanent, ...[...pending.values()].map((m) => ({ label: m.label, code, message }))];
    }
    for (const ok of response.Successful ?? []) pending.delete(ok.Id!);
    const retry = new Map<string, OutgoingMessage>();
    lastFailure = new Map();
    for (const failed of response.Failed ?? []) {
      const m = pending.get(failed.Id!);
      if (!m) continue;
      const failure = { label: m.label, code: failed.Code ?? 'Unknown', message: failed.Message ?? '' };
      pending.delete(failed.Id!);
      if (failed.SenderFault) permanent.push(failure);
      else {
        retry.set(failed.Id!, m);
        lastFailure.set(failed.Id!, failure);
      }
    }
    // Entries the answer did not mention were not confirmed: send them again too.
    for (const [id, m] of pending) retry.set(id, m);
    pending = retry;
  }
  for (const [id, m] of pending) {
    permanent.push(
      lastFailure.get(id) ?? { label: m.label, code: 'Unconfirmed', message: 'no answer for entry' },
    );
  }
  return permanent;
}

/** Sends every message or throws an `SqsSendError` naming those that were not sent. */
async function sendMessages(
  client: SQSClient,
  queueUrl: string,
  messages: OutgoingMessage[],
  options: SqsSendOptions = {},
): Promise<void> {
  const opts: Required<SqsSendOptions> = {
    maxBatchBytes: options.maxBatchBytes ?? MAX_BATCH_BYTES,
    maxAttempts: options.maxAttempts ?? 4,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 100,
    concurrency: options.concurrency ?? 4,
  };
  const tooLarge = messages.filter((m) => byteLength(m.body) > opts.maxBatchBytes);
  if (tooLarge.length > 0) {
    throw new SqsSendError(
      queueUrl,
      tooLarge.map((m) => ({
        label: m.label,
        code: 'MessageTooLong',
        message: `${byteLength(m.body)} bytes > ${opts.maxBatchBytes}`,
      })),
    );
  }
  const chunks = chunk(messages, opts.maxBatchBytes);
  const failed: SendFailure[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(opts.concurrency, chunks.length) }, async () => {
    while (next < chunks.length) {
      const mine = chunks[next++]!;
      failed.push(...(await sendChunk(client, queueUrl, mine, opts)));
    }
  });
  await Promise.all(lanes);
  if (failed.length > 0) throw new SqsSendError(queueUrl, failed);
}

export {
  chunk,
  MAX_BATCH_BYTES,
  MAX_BATCH_ENTRIES,
  type OutgoingMessage,
  type SendFailure,
  SqsSendError,
  type SqsSendOptions,
  sendMessages,
};
