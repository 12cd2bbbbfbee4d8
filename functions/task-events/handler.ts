/**
 * Task events: an ECS task of a Fargate try stopped (EventBridge "ECS Task State Change") → end the
 * try by the container's exit code. Events about other tasks, or tries already ended, are ignored.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { stoppedTryOf } from '#adapters/ecs/task-state-change.ts';
import { completeContainerTry } from '#services/container-try.ts';
import type { ServiceDeps } from '#services/deps.ts';
import { awsServiceDeps } from '../common/aws-deps.ts';
import { functionLogger } from '../common/logger.ts';
import { settleStore } from '../common/settle.ts';
import { loadConfig } from './config.ts';

export type TaskEventsDeps = ServiceDeps & { clock: { now(): number } };

export const createHandler = (deps: TaskEventsDeps) =>
  middy<unknown>()
    .use(settleStore(deps.store))
    .handler(async (event) => {
      const stopped = stoppedTryOf(event);
      if (!stopped) return { outcome: 'ignored' };
      const outcome = await completeContainerTry(deps, { ...stopped, now: deps.clock.now() });
      deps.logger.info('container try ended', { ...stopped.key, tryNumber: stopped.tryNumber, outcome });
      return { outcome };
    });

let cached: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point: dependencies built once per cold start, on first use. */
export const handler = (event: unknown, context: Context) => {
  cached ??= createHandler(awsServiceDeps(loadConfig(process.env), functionLogger('task-events')));
  return cached(event, context);
};
