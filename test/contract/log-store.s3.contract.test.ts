import { describe, expect } from 'vitest';
import { S3LogStore } from '#adapters/s3/s3-log-store.ts';
import { awsTest } from '../support/aws-local.ts';
import { describeLogStore } from './log-store.contract.ts';

describeLogStore(
  'S3 on fauxqs',
  awsTest.extend('logs', async ({ s3, bucket }) => new S3LogStore(s3, bucket)),
);

describe('S3LogStore', () => {
  awsTest('reads appends made within one millisecond back in append order', async ({ s3, bucket }) => {
    const logs = new S3LogStore(s3, bucket, { clock: { now: () => Date.UTC(2024, 0, 1) } });
    const key = { dagId: 'etl', runId: 'r', taskId: 't', mapIndex: -1 };
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    for (const line of lines) await logs.append(key, 1, [line]);
    expect(await logs.read(key, 1)).toEqual(lines);
  });
});
