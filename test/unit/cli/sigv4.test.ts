/** The CLI's SigV4 signing (IAM auth): the AWS test suite's vector, and a request signed from the credential chain. */
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Sha256, signRequest } from '../../../cli/api/sigv4.ts';

describe('SigV4 signing', () => {
  afterEach(() => vi.unstubAllEnvs());

  it("signs AWS's get-vanilla example to the published signature", async () => {
    // From the AWS Signature Version 4 test suite (get-vanilla).
    const signer = new SignatureV4({
      service: 'service',
      region: 'us-east-1',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'example.amazonaws.com',
        path: '/',
        query: {},
        headers: { host: 'example.amazonaws.com' },
      },
      { signingDate: new Date('2015-08-30T12:36:00Z') },
    );
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('signs an API request with credentials from the environment, for execute-api in its region', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTESTCLI');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-for-the-test');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-token');
    const headers = await signRequest(
      { type: 'iam', region: 'eu-west-1', service: 'execute-api' },
      {
        method: 'POST',
        url: new URL('https://abc.execute-api.eu-west-1.amazonaws.com/api/v1/backfills?dryRun=1'),
        headers: { 'content-type': 'application/json' },
        body: '{"dagId":"etl"}',
      },
    );
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTESTCLI\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('session-token');
    expect(headers).not.toHaveProperty('host');
  });
});
