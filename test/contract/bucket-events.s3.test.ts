/** The local stack's stand-in for S3 notifications (cli/dev/bucket-events.ts), on fauxqs. */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect } from 'vitest';
import { type BucketChange, DagBucketEvents } from '../../cli/dev/bucket-events.ts';
import { awsTest } from '../support/aws-local.ts';

describe('DAG bucket events (on fauxqs)', () => {
  awsTest(
    'notifies objects others create, change and delete under dags/, once each',
    async ({ s3, bucket }) => {
      // Prepare: one file there before it starts, one outside dags/.
      const put = (key: string, body: string) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      await put('dags/old.ts', 'old');
      const events: [string, BucketChange][] = [];
      const watcher = new DagBucketEvents({
        s3,
        bucket,
        prefix: 'dags/',
        everyMs: 60_000,
        notify: async (key, change) => void events.push([key, change]),
        onError: (error) => {
          throw error;
        },
      });
      await watcher.start();
      try {
        // Act and assess, one poll at a time.
        await watcher.poll();
        expect(events).toEqual([]);
        await put('dags/new.bundle.mjs', 'v1');
        await put('logs/x.txt', 'not a DAG');
        await watcher.poll();
        expect(events.splice(0)).toEqual([['dags/new.bundle.mjs', 'created']]);
        await watcher.poll();
        expect(events).toEqual([]);
        await put('dags/new.bundle.mjs', 'v2');
        await watcher.poll();
        expect(events.splice(0)).toEqual([['dags/new.bundle.mjs', 'created']]);
        // A write the stack processed itself is noted, not notified.
        const own = await put('dags/own.ts', 'mine');
        watcher.note('dags/own.ts', own.ETag ?? null);
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'dags/old.ts' }));
        await watcher.poll();
        expect(events.splice(0)).toEqual([['dags/old.ts', 'removed']]);
      } finally {
        await watcher.stop();
      }
    },
  );
});
