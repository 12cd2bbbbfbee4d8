/**
 * The scheduler: one scheduler pass per invocation, for a batch of scheduler events (SQS), a DAG's
 * wake-up or the sweep (EventBridge Scheduler invoking it directly). Any number may run at once.
 */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSEvent } from 'aws-lambda';
import type { ServiceDeps } from '#services/deps.ts';
import { runScheduler } from '#services/scheduler-input.ts';
import { decode } from '../../shared/messages.ts';
import { awsServiceDeps } from '../common/aws-deps.ts';
import { functionLogger } from '../common/logger.ts';
import { settleStore } from '../common/settle.ts';
import { loadConfig } from './config.ts';
import { decodeRecords, isSqsEvent } from './inputs.ts';

export type SchedulerDeps = ServiceDeps & { clock: { now(): number } };

export const createHandler = (deps: SchedulerDeps) => {
  const onFailure = (reason: unknown) =>
    deps.logger.error('scheduler input failed', { reason: String(reason) });
  const batch = middy<SQSEvent>()
    .use(settleStore(deps.store))
    .use(sqsPartialBatchFailure({ logger: onFailure }))
    .handler(async (event) => {
      const records = decodeRecords(event);
      const inputs = records.flatMap((r) => (r.ok ? [r.input] : []));
      const [pass] = await Promise.allSettled([runScheduler(deps, inputs, deps.clock.now())]);
      // One settled result per record, in record order.
      return records.map((r) => (r.ok ? pass! : { status: 'rejected' as const, reason: r.error }));
    });
  const direct = middy<unknown>()
    .use(settleStore(deps.store))
    .handler(async (event) => {
      const report = await runScheduler(deps, [decode('schedule-wakeup', event)], deps.clock.now());
      return { runsCreated: report.runsCreated, claimed: report.claim.claimed };
    });
  return (event: unknown, context: Context) =>
    isSqsEvent(event) ? batch(event, context) : direct(event, context);
};

let cached: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point: dependencies built once per cold start, on first use. */
export const handler = (event: unknown, context: Context) => {
  cached ??= createHandler(awsServiceDeps(loadConfig(process.env), functionLogger('scheduler')));
  return cached(event, context);
};
