/**
 * The worker: an SQS batch of dispatch messages, each try run at once (heartbeat, executionTimeout,
 * Lambda's remaining time), failures reported per record.
 */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSEvent } from 'aws-lambda';
import { functionLogger } from '../common/logger.ts';
import { settleStore } from '../common/settle.ts';
import { loadConfig } from './config.ts';
import { awsWorkerDeps } from './deps.ts';
import { handleDispatch, type WorkerFunctionDeps } from './dispatch.ts';

export type { WorkerFunctionDeps };

export const createHandler = (deps: WorkerFunctionDeps) =>
  middy<SQSEvent>()
    .use(settleStore(deps.store))
    .use(
      sqsPartialBatchFailure({
        logger: (reason) => deps.logger.error('dispatch failed', { reason: String(reason) }),
      }),
    )
    .handler((event, context) =>
      Promise.allSettled(
        event.Records.map((record) => handleDispatch(deps, record.body, context.getRemainingTimeInMillis())),
      ),
    );

let cached: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point: dependencies built once per cold start, on first use. */
export const handler = (event: SQSEvent, context: Context) => {
  cached ??= createHandler(awsWorkerDeps(loadConfig(process.env), functionLogger('worker')));
  return cached(event, context);
};
