/**
 * The service dependencies of a function in AWS, built once per cold start from its config:
 * DynamoDB store, SQS queues, EventBridge Scheduler, S3, SNS. The local stack builds the same
 * shapes from local adapters (cli/dev/stack.ts) and hands them to the same `createHandler`s.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { createS3Client, createSchedulerClient, createSqsClient } from '#adapters/aws-clients.ts';
import { BundleRuntimes } from '#adapters/bundle/bundle-runtimes.ts';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { EventBridgeScheduleRegistry } from '#adapters/eventbridge/eventbridge-schedule-registry.ts';
import { LocalTaskExecutor } from '#adapters/local/task-executor.ts';
import { S3BundleStore } from '#adapters/s3/s3-bundle-store.ts';
import { SnsNotifier } from '#adapters/sns/sns-notifier.ts';
import { SqsDispatcher, SqsSchedulerEvents } from '#adapters/sqs/sqs-publishers.ts';
import type { Logger } from '#ports';
import { ManifestCache, type ServiceDeps } from '#services/deps.ts';
import type { SchedulingConfig } from './env.ts';

const clock = { now: () => Date.now() };

function awsServiceDeps(
  config: SchedulingConfig & { bucketName?: string; notificationsTopicArn?: string },
  logger: Logger,
): ServiceDeps & { clock: typeof clock } {
  const ddb = new DynamoDBClient({
    region: config.aws.region,
    ...(config.aws.endpoint && { endpoint: config.aws.endpoint }),
  });
  const sqs = createSqsClient(config.aws);
  const store = new DynamoDbStateStore(ddb, config.tableName, {
    counterShards: config.counterShards,
    logger,
  });
  const bundles = config.bucketName ? new S3BundleStore(createS3Client(config.aws), config.bucketName) : null;
  const runtimes = bundles ? new BundleRuntimes(bundles, { logger }) : null;
  return {
    clock,
    store,
    dispatcher: new SqsDispatcher(sqs, config.dispatchQueueUrl),
    events: new SqsSchedulerEvents(sqs, config.schedulerEventsQueueUrl),
    schedules: new EventBridgeScheduleRegistry(createSchedulerClient(config.aws), config.schedules),
    settings: config.settings,
    logger,
    manifests: new ManifestCache(store),
    ...(config.notificationsTopicArn && {
      notifier: new SnsNotifier(new SNSClient({ region: config.aws.region }), config.notificationsTopicArn),
    }),
    ...(runtimes && {
      runtimes,
      callbacks: new LocalTaskExecutor((dagId, version) => runtimes.runtime(dagId, version)),
    }),
  };
}

export { awsServiceDeps };
