/**
 * What the dag-processor reads: DAG source files uploaded under `dags/` (it is invoked per object
 * created there, and lists the prefix for a full re-parse).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { DAGS_PREFIX } from './keys.ts';
import { getText, listAll, type ObjectInfo } from './objects.ts';

/** Every object under `dags/` (or a sub-folder of it), in key order. */
async function listDagObjects(client: S3Client, bucket: string, prefix = DAGS_PREFIX): Promise<ObjectInfo[]> {
  if (!prefix.startsWith(DAGS_PREFIX))
    throw new RangeError(`DAG objects live under ${DAGS_PREFIX}, not ${prefix}`);
  return listAll(client, bucket, prefix);
}

/** A DAG file's source and ETag; null when it was deleted meanwhile. */
async function readDagObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ source: string; etag: string } | null> {
  if (!key.startsWith(DAGS_PREFIX)) throw new RangeError(`DAG objects live under ${DAGS_PREFIX}, not ${key}`);
  const object = await getText(client, bucket, key);
  return object && { source: object.text, etag: object.etag };
}

/** The key in an S3 event notification is URL-encoded with `+` for spaces. */
function keyFromS3Event(encodedKey: string): string {
  return decodeURIComponent(encodedKey.replace(/\+/g, ' '));
}

export { keyFromS3Event, listDagObjects, readDagObject };
