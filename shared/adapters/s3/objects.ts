/** Small S3 calls shared by the stores: read a text object (null when absent), list a prefix. */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

interface ObjectInfo {
  key: string;
  etag: string;
  size: number;
  lastModified: number;
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || status === 404;
}

/** The object's text and ETag, or null when there is no such key. */
async function getText(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ text: string; etag: string } | null> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { text: (await response.Body?.transformToString('utf-8')) ?? '', etag: response.ETag ?? '' };
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Every object under `prefix`, in key order, following continuation tokens (`pageSize` for tests). */
async function listAll(
  client: S3Client,
  bucket: string,
  prefix: string,
  pageSize?: number,
): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
        MaxKeys: pageSize,
      }),
    );
    for (const o of page.Contents ?? []) {
      out.push({
        key: o.Key!,
        etag: o.ETag ?? '',
        size: o.Size ?? 0,
        lastModified: o.LastModified?.getTime() ?? 0,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export { getText, isNotFound, listAll, type ObjectInfo };
