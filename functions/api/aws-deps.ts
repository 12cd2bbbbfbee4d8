/**
 * The api function's dependencies in AWS, built once per cold start from its config: the DynamoDB
 * store, the scheduler-events queue, task logs in S3. The API never dispatches tries nor moves
 * schedules (the scheduler does, on the events the API publishes), so those two ports refuse.
 */

import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createS3Client, createSqsClient } from '#adapters/aws-clients.ts';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { S3LogStore } from '#adapters/s3/s3-log-store.ts';
import { S3ResultStore } from '#adapters/s3/s3-result-store.ts';
import { SqsSchedulerEvents } from '#adapters/sqs/sqs-publishers.ts';
import type { Logger } from '#ports';
import { ManifestCache } from '#services/deps.ts';
import type { ApiConfig } from './config.ts';
import type { ApiDeps } from './deps.ts';

function apiLogger(): Logger {
  const logger = new PowertoolsLogger({ serviceName: 'updraft-api' });
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, extra?: Record<string, unknown>) =>
      extra ? logger[level](message, extra) : logger[level](message);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const refuse = (what: string) => async () => {
  throw new Error(`the api function does not ${what}: the scheduler does`);
};

function awsApiDeps(config: ApiConfig, logger: Logger = apiLogger()): ApiDeps {
  const ddb = new DynamoDBClient({
    region: config.aws.region,
    ...(config.aws.endpoint && { endpoint: config.aws.endpoint }),
  });
  const store = new DynamoDbStateStore(ddb, config.tableName, {
    counterShards: config.counterShards,
    logger,
  });
  const s3 = createS3Client(config.aws);
  return {
    store,
    events: new SqsSchedulerEvents(createSqsClient(config.aws), config.schedulerEventsQueueUrl),
    dispatcher: { dispatch: refuse('dispatch tries') },
    schedules: { setNextWakeUp: refuse('move schedules') },
    logs: new S3LogStore(s3, config.bucketName),
    results: new S3ResultStore(s3, config.bucketName),
    settings: config.settings,
    logger,
    manifests: new ManifestCache(store),
    clock: { now: () => Date.now() },
    auth: config.auth,
    deployment: config.deployment,
  };
}

export { awsApiDeps };
