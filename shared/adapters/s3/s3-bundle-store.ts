/** DAG bundles (built code) in S3 under `bundles/<dagId>/<version>.mjs`, written once per version. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BundleStore } from '#ports';
import { bundleKey } from './keys.ts';
import { getText } from './objects.ts';

class S3BundleStore implements BundleStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async putBundle(dagId: string, version: string, code: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: bundleKey(dagId, version),
        Body: code,
        ContentType: 'text/javascript; charset=utf-8',
      }),
    );
  }

  async getBundle(dagId: string, version: string): Promise<string | null> {
    return (await getText(this.client, this.bucket, bundleKey(dagId, version)))?.text ?? null;
  }
}

export { S3BundleStore };
