/**
 * fauxqs keeps S3 in memory, so `updraft dev` saves the bucket's bundles, logs and results under its
 * data folder when it stops and puts them back when it starts: with DynamoDB Local's files, a
 * restart keeps runs, their code and their logs. (`dags/` is not saved: the watcher uploads it.)
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getText, listAll } from '#adapters/s3/objects.ts';
import { BUCKET } from '../../shared/resources.ts';

const SAVED = [BUCKET.prefixes.bundles, BUCKET.prefixes.logs, BUCKET.prefixes.results];

async function saveBucket(s3: S3Client, bucket: string, dir: string): Promise<number> {
  const staging = `${dir}.saving`;
  await rm(staging, { recursive: true, force: true });
  let saved = 0;
  for (const prefix of SAVED) {
    for (const object of await listAll(s3, bucket, prefix)) {
      const text = (await getText(s3, bucket, object.key))?.text;
      if (text === undefined) continue;
      const file = join(staging, object.key);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
      saved += 1;
    }
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const { rename } = await import('node:fs/promises');
  await rename(staging, dir);
  return saved;
}

async function restoreBucket(s3: S3Client, bucket: string, dir: string): Promise<number> {
  const files = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let restored = 0;
  for (const entry of files) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const key = relative(dir, file).split('\\').join('/');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(file) }));
    restored += 1;
  }
  return restored;
}

export { restoreBucket, saveBucket };
