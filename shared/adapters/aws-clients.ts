/**
 * SDK clients built from one small config, the same in Lambda (region only: credentials and endpoint
 * come from the environment) and locally (an emulator's endpoint and dummy credentials).
 */
import { Agent as HttpAgent } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';

interface AwsConfig {
  region: string;
  /** An emulator's address (fauxqs, DynamoDB Local); absent in AWS. */
  endpoint?: string;
  /** Absent in AWS (the default provider chain). With an endpoint and no credentials, dummy ones. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Emulators accept any credentials; a local run must not need an AWS profile. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * SDK retries (standard mode: exponential backoff with jitter, throttling included) and socket
 * limits. `requestTimeoutMs` must exceed the longest server-side wait of the client's calls.
 */
function baseConfig(config: AwsConfig, requestTimeoutMs: number, maxSockets?: number) {
  const local = config.endpoint !== undefined;
  const credentials = config.credentials ?? (local ? LOCAL_CREDENTIALS : undefined);
  return {
    region: config.region,
    maxAttempts: 5,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: 3_000,
      requestTimeout: requestTimeoutMs,
      // Each long poll holds a socket for up to 20 s: pollers need as many sockets as loops.
      ...(maxSockets !== undefined && { httpAgent: new HttpAgent({ keepAlive: true, maxSockets }) }),
    },
    ...(local && { endpoint: config.endpoint }),
    ...(credentials && { credentials }),
  };
}

/** ReceiveMessage long-polls for up to 20 s, so requests may take that long before they time out. */
function createSqsClient(config: AwsConfig, options: { maxSockets?: number } = {}): SQSClient {
  return new SQSClient(baseConfig(config, 30_000, options.maxSockets));
}

/** Path-style addressing with an endpoint: `http://host:port/bucket/key`, no wildcard DNS needed. */
function createS3Client(config: AwsConfig): S3Client {
  return new S3Client({ ...baseConfig(config, 30_000), forcePathStyle: config.endpoint !== undefined });
}

function createSchedulerClient(config: AwsConfig): SchedulerClient {
  return new SchedulerClient(baseConfig(config, 10_000));
}

export { type AwsConfig, createS3Client, createSchedulerClient, createSqsClient };
