/**
 * IAM auth: requests signed with AWS Signature Version 4 by credentials from the standard chain
 * (environment, ~/.aws profiles and SSO, web identity, the instance or container role), as the AWS
 * CLI finds them. Credentials are resolved once per process and refreshed by the provider.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { CliError, EXIT } from '../errors.ts';
import type { Credentials } from './connection.ts';

type IamCredentials = Extract<Credentials, { type: 'iam' }>;

const bytes = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data)
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 (and HMAC-SHA-256 with a secret) from node:crypto, in the shape SignatureV4 takes. */
class Sha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.#secret));
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#fresh();
  }
}

const signers = new Map<string, SignatureV4>();

function signerFor(credentials: IamCredentials): SignatureV4 {
  const key = `${credentials.service}/${credentials.region}/${credentials.awsProfile ?? ''}`;
  let signer = signers.get(key);
  if (!signer) {
    signer = new SignatureV4({
      service: credentials.service,
      region: credentials.region,
      credentials: defaultProvider(credentials.awsProfile ? { profile: credentials.awsProfile } : {}),
      sha256: Sha256,
    });
    signers.set(key, signer);
  }
  return signer;
}

/** The request's headers with the SigV4 `authorization`, `x-amz-date` (and session token) added. */
async function signRequest(
  credentials: IamCredentials,
  request: { method: string; url: URL; headers: Record<string, string>; body: string | undefined },
): Promise<Record<string, string>> {
  const { url } = request;
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  try {
    const signed = await signerFor(credentials).sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path: url.pathname,
      query,
      headers: { ...request.headers, host: url.host },
      body: request.body,
    });
    const { host: _, ...headers } = signed.headers;
    return headers;
  } catch (error) {
    throw new CliError(
      `no AWS credentials to sign with (${(error as Error).message.split('\n')[0]}): set AWS_PROFILE or run \`aws sso login\``,
      EXIT.unreachable,
    );
  }
}

export { Sha256, signRequest };
