/**
 * The table, the queues with their DLQs and the bucket, each created from its definition in
 * shared/resources.ts (the same data the local stack provisions from), so the two cannot drift.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BUCKET, QUEUES, type QueueId, TABLE } from '../shared/resources.ts';

function createTable(
  scope: Construct,
  opts: { removalPolicy: RemovalPolicy; deletionProtection: boolean },
): Table {
  const string = (name: string) => ({ name, type: AttributeType.STRING });
  const table = new Table(scope, 'Table', {
    partitionKey: string(TABLE.partitionKey),
    sortKey: string(TABLE.sortKey),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: TABLE.timeToLiveAttribute,
    encryption: TableEncryption.AWS_MANAGED,
    deletionProtection: opts.deletionProtection,
    removalPolicy: opts.removalPolicy,
  });
  for (const index of TABLE.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: string(index.partitionKey),
      sortKey: string(index.sortKey),
      projectionType: index.projection === 'ALL' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
    });
  }
  return table;
}

export interface QueuePair {
  queue: Queue;
  dlq: Queue;
}

function createQueues(scope: Construct): Record<QueueId, QueuePair> {
  const pair = (id: QueueId, name: string): QueuePair => {
    const q = QUEUES[id];
    const dlq = new Queue(scope, `${name}Dlq`, {
      retentionPeriod: Duration.seconds(q.dlq.retentionSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const queue = new Queue(scope, `${name}Queue`, {
      visibilityTimeout: Duration.seconds(q.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(q.retentionSeconds),
      deadLetterQueue: { queue: dlq, maxReceiveCount: q.maxReceiveCount },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    return { queue, dlq };
  };
  return {
    dispatch: pair('dispatch', 'Dispatch'),
    schedulerEvents: pair('schedulerEvents', 'SchedulerEvents'),
  };
}

/** The bucket for DAG files, bundles, logs and results: private, encrypted, TLS only; logs and results expire. */
function createBucket(scope: Construct, opts: { removalPolicy: RemovalPolicy; accessLogs: IBucket }): Bucket {
  const expire = (prefix: string) => ({
    prefix,
    expiration: Duration.days(BUCKET.logRetentionDays),
    abortIncompleteMultipartUploadAfter: Duration.days(1),
  });
  return new Bucket(scope, 'Bucket', {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [
      expire(BUCKET.prefixes.logs),
      expire(BUCKET.prefixes.results),
      // Versions of DAG files and bundles replaced or deleted: kept a while for recovery.
      { noncurrentVersionExpiration: Duration.days(30) },
    ],
    serverAccessLogsBucket: opts.accessLogs,
    serverAccessLogsPrefix: 'updraft-bucket/',
    removalPolicy: opts.removalPolicy,
    autoDeleteObjects: false,
  });
}

/** Server access logs of Updraft's buckets (S3 writes them; they expire). */
function createAccessLogsBucket(scope: Construct, removalPolicy: RemovalPolicy): Bucket {
  return new Bucket(scope, 'AccessLogs', {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{ expiration: Duration.days(BUCKET.logRetentionDays) }],
    removalPolicy,
  });
}

export { createAccessLogsBucket, createBucket, createQueues, createTable };
