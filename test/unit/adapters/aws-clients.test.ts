import { describe, expect, it } from 'vitest';
import { createS3Client, createSchedulerClient, createSqsClient } from '#adapters/aws-clients.ts';

describe('AWS client factories', () => {
  it('points every client at an emulator with dummy credentials, and S3 at path-style addresses', async () => {
    const config = { region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' };
    for (const client of [createSqsClient(config), createS3Client(config), createSchedulerClient(config)]) {
      expect(await client.config.region()).toBe('eu-west-1');
      expect(await client.config.credentials()).toMatchObject({
        accessKeyId: 'local',
        secretAccessKey: 'local',
      });
      const endpoint = await client.config.endpoint?.();
      expect(`${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`).toBe('http://127.0.0.1:4566');
      expect(await client.config.maxAttempts()).toBe(5);
      client.destroy();
    }
    expect(createS3Client(config).config.forcePathStyle).toBe(true);
  });

  it('uses the given credentials over the dummy ones', async () => {
    const credentials = { accessKeyId: 'AKIA', secretAccessKey: 'secret' };
    const client = createSqsClient({ region: 'us-east-1', endpoint: 'http://localhost:1', credentials });
    expect(await client.config.credentials()).toMatchObject(credentials);
  });

  it('leaves endpoint and addressing to AWS when no endpoint is given', async () => {
    const s3 = createS3Client({ region: 'us-east-1' });
    expect(s3.config.endpoint).toBeUndefined();
    expect(s3.config.forcePathStyle).toBe(false);
  });
});
