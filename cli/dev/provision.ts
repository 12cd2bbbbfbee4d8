/**
 * Creates the local resources from shared/resources.ts (the definitions the CDK stack uses): the
 * table, each queue with its DLQ and redrive policy, the bucket. Idempotent: what exists is kept,
 * so a restart of `updraft dev` finds its history.
 */

import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createTable } from '#adapters/dynamodb/table.ts';
import { QUEUES, type QueueId, TABLE } from '../../shared/resources.ts';

export interface LocalResourceNames {
  table: string;
  bucket: string;
  queues: Record<QueueId, { url: string; arn: string; dlqUrl: string }>;
}

async function ensureTable(ddb: DynamoDBClient, name: string): Promise<void> {
  try {
    await ddb.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  await createTable(ddb, name, TABLE);
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return Attributes!.QueueArn!;
}

async function ensureQueue(sqs: SQSClient, prefix: string, id: QueueId) {
  const q = QUEUES[id];
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}${q.dlq.name}`,
      Attributes: { MessageRetentionPeriod: String(q.dlq.retentionSeconds) },
    }),
  );
  const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}${q.name}`,
      Attributes: {
        VisibilityTimeout: String(q.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(q.retentionSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: q.maxReceiveCount }),
      },
    }),
  );
  return { url: main.QueueUrl!, arn: await queueArn(sqs, main.QueueUrl!), dlqUrl: dlq.QueueUrl! };
}

async function ensureBucket(s3: S3Client, name: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    const name_ = (error as Error).name;
    if (name_ !== 'BucketAlreadyOwnedByYou' && name_ !== 'BucketAlreadyExists') throw error;
  }
}

/** Creates (or finds) every local resource; `prefix` keeps several stacks apart on one emulator. */
async function provision(
  clients: { ddb: DynamoDBClient; sqs: SQSClient; s3: S3Client },
  prefix = 'updraft-',
): Promise<LocalResourceNames> {
  const table = `${prefix}state`;
  const bucket = `${prefix}bucket`;
  await ensureTable(clients.ddb, table);
  const ids = Object.keys(QUEUES) as QueueId[];
  const created = await Promise.all(ids.map((id) => ensureQueue(clients.sqs, prefix, id)));
  await ensureBucket(clients.s3, bucket);
  return {
    table,
    bucket,
    queues: Object.fromEntries(ids.map((id, i) => [id, created[i]!])) as LocalResourceNames['queues'],
  };
}

export { provision };
