/**
 * Results too large for the task-instance item, one object per try under `results/`; the item keeps
 * the reference `s3://<bucket>/<key>`. A try writes its result once; a retry writes its own key.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { TiKey } from '#core/model.ts';
import type { ResultStore } from '#ports';
import { resultKey } from './keys.ts';
import { getText } from './objects.ts';

class S3ResultStore implements ResultStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: TiKey, tryNumber: number, json: string): Promise<string> {
    const objectKey = resultKey(key, tryNumber);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Body: json,
        ContentType: 'application/json',
      }),
    );
    return `s3://${this.bucket}/${objectKey}`;
  }

  async get(ref: string): Promise<string | null> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
    if (!match) throw new RangeError(`not a result reference: ${ref}`);
    return (await getText(this.client, match[1]!, match[2]!))?.text ?? null;
  }
}

export { S3ResultStore };
