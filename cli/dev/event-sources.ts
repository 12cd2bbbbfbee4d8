/**
 * What invokes the functions in the local stack, as AWS would: an SQS poller per queue acting as
 * Lambda's event source (batch size, concurrency and visibility from shared/resources.ts), and the
 * sweep's rate schedule as a timer that invokes the scheduler directly.
 */

import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, S3Event, SQSEvent } from 'aws-lambda';
import { type AwsConfig, createSqsClient } from '#adapters/aws-clients.ts';
import { SqsPoller, type SqsRecord } from '#adapters/sqs/sqs-poller.ts';
import type { Logger } from '#ports';
import { FUNCTIONS, type FunctionName, QUEUES, SCHEDULES } from '../../shared/resources.ts';
import type { LocalResourceNames } from './provision.ts';

type Handler = (event: never, context: Context) => Promise<unknown>;

/** What an event source invokes while it is enabled: a handler, and for workers a way to kill them. */
interface Consumer {
  handler: Handler;
  kill?(): void;
}

/**
 * Batches handled at once per queue, locally: each is a loop that long-polls and runs its batch;
 * 16 loops × 10 messages keep a 64-slot pool busy without a socket per possible Lambda. An idle
 * queue is watched by one loop; more start as messages come (SqsPoller's `idleLoops`).
 */
const LOCAL_MAX_CONCURRENCY = 16;

export interface Invokers {
  scheduler(event: unknown): Promise<unknown>;
  taskEvents(event: unknown): Promise<unknown>;
  dagProcessor(event: S3Event): Promise<unknown>;
}

/** A Lambda context whose remaining time counts down from the function's timeout. */
function lambdaContext(name: FunctionName): Context {
  const deadline = Date.now() + FUNCTIONS[name].timeoutSeconds * 1000;
  return {
    functionName: `updraft-${name}`,
    awsRequestId: `local-${Date.now()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    callbackWaitsForEmptyEventLoop: false,
  } as Context;
}

function sqsEventOf(records: SqsRecord[]): SQSEvent {
  return { Records: records } as unknown as SQSEvent;
}

function startEventSources(input: {
  aws: AwsConfig;
  names: LocalResourceNames;
  handlers: { scheduler: Handler };
  /** A new worker process each time the dispatch queue's event source is enabled. */
  worker: () => Consumer;
  invoke: Invokers;
  logger: Logger;
  pollWaitSeconds?: number;
  concurrency?: { worker?: number; scheduler?: number };
  /** 0: no sweep. */
  sweepEveryMs: number;
  /** Sees the pollers' SQS client once made (a benchmark's meter). */
  instrument?: (client: SQSClient) => void;
  /** Which queues' event sources start right away. @default both */
  enabled?: { dispatch?: boolean; schedulerEvents?: boolean };
}) {
  const { names, handlers, logger } = input;
  const loops = {
    worker: input.concurrency?.worker ?? Math.min(LOCAL_MAX_CONCURRENCY, QUEUES.dispatch.maxConcurrency),
    scheduler: input.concurrency?.scheduler ?? QUEUES.schedulerEvents.maxConcurrency,
  };
  // The pollers' own client: their long polls must not take the sockets the functions send with.
  const sqs = createSqsClient(input.aws, { maxSockets: loops.worker + loops.scheduler + 4 });
  input.instrument?.(sqs);
  const poller = (queue: keyof typeof QUEUES, handler: Handler, concurrency?: number) =>
    new SqsPoller({
      client: sqs,
      queueUrl: names.queues[queue].url,
      batchSize: QUEUES[queue].batchSize,
      maxConcurrency: concurrency ?? QUEUES[queue].maxConcurrency,
      waitTimeSeconds: input.pollWaitSeconds ?? 20,
      handler: (records) => handler(sqsEventOf(records) as never, lambdaContext(QUEUES[queue].consumer)),
      logger,
    });
  /**
   * A queue's event source, which can be disabled and enabled again (a poller is single-use), or
   * killed: its consumer dies mid-batch, as a crashed Lambda container would.
   */
  const source = (
    queue: keyof typeof QUEUES,
    consumer: () => Consumer,
    concurrency: number,
    enabled: boolean,
  ) => {
    let current: { poller: SqsPoller; consumer: Consumer } | null = null;
    const control = {
      start() {
        if (current) return;
        const started = consumer();
        current = { poller: poller(queue, started.handler, concurrency), consumer: started };
        current.poller.start();
      },
      async stop() {
        const stopping = current;
        current = null;
        await stopping?.poller.stop();
      },
      kill() {
        const killing = current;
        current = null;
        killing?.consumer.kill?.();
        killing?.poller.kill();
      },
    };
    if (enabled) control.start();
    return control;
  };
  const workers = source('dispatch', input.worker, loops.worker, input.enabled?.dispatch ?? true);
  const scheduler = source(
    'schedulerEvents',
    () => ({ handler: handlers.scheduler }),
    loops.scheduler,
    input.enabled?.schedulerEvents ?? true,
  );
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep =
    input.sweepEveryMs > 0
      ? setInterval(() => {
          sweeping = input.invoke
            .scheduler({ v: 1, ...SCHEDULES.sweep.message })
            .catch((error) => logger.error('sweep failed', { error: String(error) }));
        }, input.sweepEveryMs)
      : null;
  return {
    workers,
    scheduler,
    async stop() {
      if (sweep) clearInterval(sweep);
      await Promise.all([workers.stop(), scheduler.stop()]);
      await sweeping;
      sqs.destroy();
    },
    loops,
  };
}

export { lambdaContext, startEventSources };
