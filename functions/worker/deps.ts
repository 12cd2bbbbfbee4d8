/** The worker's dependencies in AWS: the scheduling deps plus logs, results, the executor and Fargate. */
import { randomUUID } from 'node:crypto';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createS3Client } from '#adapters/aws-clients.ts';
import { BundleRuntimes } from '#adapters/bundle/bundle-runtimes.ts';
import { EcsContainerLauncher } from '#adapters/ecs/ecs-container-launcher.ts';
import { LambdaInvoker } from '#adapters/lambda/lambda-invoker.ts';
import { LocalTaskExecutor } from '#adapters/local/task-executor.ts';
import { S3BundleStore } from '#adapters/s3/s3-bundle-store.ts';
import { S3LogStore } from '#adapters/s3/s3-log-store.ts';
import { S3ResultStore } from '#adapters/s3/s3-result-store.ts';
import type { SharedWorkObserver } from '#core/shared-work.ts';
import type { Logger } from '#ports';
import { DownstreamPasses } from '#services/downstream-pass.ts';
import { GroupedEvents } from '#services/grouped-events.ts';
import { awsServiceDeps } from '../common/aws-deps.ts';
import type { Config } from './config.ts';
import type { WorkerFunctionDeps } from './dispatch.ts';

/** Heartbeats often enough that three in a row can be lost before the sweep's timeout. */
function heartbeatEvery(heartbeatTimeoutMs: number): number {
  return Math.max(1_000, Math.min(30_000, Math.floor(heartbeatTimeoutMs / 5)));
}

function awsWorkerDeps(config: Config, logger: Logger): WorkerFunctionDeps {
  const base = awsServiceDeps(config, logger);
  const s3 = createS3Client(config.aws);
  const runtimes = new BundleRuntimes(new S3BundleStore(s3, config.bucketName), { logger });
  const invoker = new LambdaInvoker(new LambdaClient({ region: config.aws.region }));
  const executor = new LocalTaskExecutor((dagId, version) => runtimes.runtime(dagId, version), { invoker });
  const deps: WorkerFunctionDeps = {
    ...base,
    runtimes,
    callbacks: executor,
    logs: new S3LogStore(s3, config.bucketName),
    results: new S3ResultStore(s3, config.bucketName),
    executor,
    workerId: `lambda:${process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? randomUUID()}`,
    heartbeatEveryMs: heartbeatEvery(config.settings.heartbeatTimeoutMs),
    ...(config.ecs && {
      containers: new EcsContainerLauncher(new ECSClient({ region: config.aws.region }), config.ecs),
    }),
  };
  return forWorker(deps);
}

/**
 * What a worker container adds to its dependencies (in AWS and in the local stack): its events sent
 * together (a batch's ends, one SendMessageBatch), and its own downstream pass (Airflow's mini
 * scheduler) when the settings ask for it. `shared`: an observer of the work those do for several
 * tries at once (the local stack's meter).
 */
function forWorker(deps: WorkerFunctionDeps, shared?: SharedWorkObserver): WorkerFunctionDeps {
  const grouped: WorkerFunctionDeps = { ...deps, events: new GroupedEvents(deps.events, shared) };
  if (!deps.settings.scheduleAfterTaskExecution) return grouped;
  return { ...grouped, downstream: new DownstreamPasses(grouped, grouped.clock, shared) };
}

export { awsWorkerDeps, forWorker, heartbeatEvery };
