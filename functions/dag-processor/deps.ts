/** The dag-processor's dependencies in AWS: scheduling deps, the bucket, and esbuild-wasm. */
import { createS3Client } from '#adapters/aws-clients.ts';
import { EsbuildDagBundler } from '#adapters/bundle/bundle-runtimes.ts';
import { readDagObject } from '#adapters/s3/dag-objects.ts';
import { S3BundleStore } from '#adapters/s3/s3-bundle-store.ts';
import type { Logger } from '#ports';
import { awsServiceDeps } from '../common/aws-deps.ts';
import type { Config } from './config.ts';
import type { DagProcessorDeps } from './handler.ts';

function awsDagProcessorDeps(config: Config, logger: Logger): DagProcessorDeps {
  const s3 = createS3Client(config.aws);
  return {
    ...awsServiceDeps(config, logger),
    readDagFile: async (key) => (await readDagObject(s3, config.bucketName, key))?.source ?? null,
    bundles: new S3BundleStore(s3, config.bucketName),
    // In Lambda only esbuild-wasm is installed (resources.ts: nodeModules), so that is what loads.
    bundler: new EsbuildDagBundler(),
  };
}

export { awsDagProcessorDeps };
