import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect } from 'vitest';
import { keyFromS3Event, listDagObjects, readDagObject } from '#adapters/s3/dag-objects.ts';
import { listAll } from '#adapters/s3/objects.ts';
import { awsTest } from '../support/aws-local.ts';

describe('DAG objects in S3 (on fauxqs)', () => {
  awsTest('lists the files under dags/ only, in key order', async ({ s3, bucket }) => {
    for (const key of ['dags/b.ts', 'dags/a.ts', 'dags/team/c.ts', 'bundles/etl/v1.mjs', 'dagsx/d.ts']) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    }
    expect((await listDagObjects(s3, bucket)).map((o) => o.key)).toEqual([
      'dags/a.ts',
      'dags/b.ts',
      'dags/team/c.ts',
    ]);
    expect((await listDagObjects(s3, bucket, 'dags/team/')).map((o) => o.key)).toEqual(['dags/team/c.ts']);
    await expect(listDagObjects(s3, bucket, 'bundles/')).rejects.toThrow(/under dags\//);
  });

  awsTest('follows continuation tokens to the last page', async ({ s3, bucket }) => {
    const keys = Array.from({ length: 7 }, (_, i) => `dags/f${i}.ts`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    expect((await listAll(s3, bucket, 'dags/', 2)).map((o) => o.key)).toEqual(keys);
  });

  awsTest('reads a DAG file with its ETag, and null for one deleted meanwhile', async ({ s3, bucket }) => {
    const source = 'export default dag("étl", {});\n';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dags/etl.ts', Body: source }));
    const [listed] = await listDagObjects(s3, bucket);
    expect(await readDagObject(s3, bucket, 'dags/etl.ts')).toEqual({ source, etag: listed!.etag });
    expect(await readDagObject(s3, bucket, 'dags/gone.ts')).toBeNull();
  });

  awsTest('decodes the key of an S3 event notification', async ({ s3, bucket }) => {
    const key = keyFromS3Event('dags/my+team/%C3%A9tl+v2.ts');
    expect(key).toBe('dags/my team/étl v2.ts');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    expect((await readDagObject(s3, bucket, key))?.source).toBe('x');
  });
});
