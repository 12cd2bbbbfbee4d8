/**
 * `awsTest`: vitest fixtures on the fauxqs started by test/setup/fauxqs.global-setup.ts. Clients are
 * made once per file; `queue` and `bucket` are fresh per test, with unique names, and deleted after.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { inject, test } from 'vitest';
import { type AwsConfig, createS3Client, createSqsClient } from '#adapters/aws-clients.ts';
import { listAll } from '#adapters/s3/objects.ts';

interface LocalQueue {
  name: string;
  url: string;
}

/** Lowercase letters, digits and dashes: valid for both queue and bucket names. */
function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(5).toString('hex')}`;
}

async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<void> {
  const objects = await listAll(s3, bucket, '');
  for (let i = 0; i < objects.length; i += 1000) {
    const keys = objects.slice(i, i + 1000).map((o) => ({ Key: o.key }));
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

const awsTest = test
  .extend('aws', { scope: 'file' }, async (): Promise<AwsConfig> => {
    const endpoint = inject('fauxqsEndpoint');
    // Without an endpoint the clients would reach real AWS with whatever credentials are around.
    if (!endpoint) throw new Error('no fauxqs: add test/setup/fauxqs.global-setup.ts to globalSetup');
    return { region: 'us-east-1', endpoint };
  })
  .extend('sqs', { scope: 'file' }, async ({ aws }, { onCleanup }): Promise<SQSClient> => {
    const client = createSqsClient(aws);
    onCleanup(() => client.destroy());
    return client;
  })
  .extend('s3', { scope: 'file' }, async ({ aws }, { onCleanup }): Promise<S3Client> => {
    const client = createS3Client(aws);
    onCleanup(() => client.destroy());
    return client;
  })
  .extend('queue', async ({ sqs }, { onCleanup }): Promise<LocalQueue> => {
    const name = uniqueName('q');
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    onCleanup(async () => {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    });
    return { name, url: QueueUrl! };
  })
  .extend('bucket', async ({ s3 }, { onCleanup }): Promise<string> => {
    const bucket = uniqueName('b');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    onCleanup(() => emptyAndDeleteBucket(s3, bucket));
    return bucket;
  });

export { awsTest, type LocalQueue, uniqueName };
