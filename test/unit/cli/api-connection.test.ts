/** How the CLI picks the API it talks to and its credentials, and its "did you mean" names. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeNames } from '../../../cli/api/common.ts';
import { resolveConnection, rootUrl } from '../../../cli/api/connection.ts';
import { CliError } from '../../../cli/errors.ts';

async function configFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'updraft-config-'));
  const file = join(dir, 'config.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const PROFILES = {
  defaultProfile: 'prod',
  profiles: {
    prod: { url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/api/v1/', auth: { type: 'iam' } },
    fn: { url: 'https://xyz.lambda-url.us-west-2.on.aws', auth: { type: 'iam', awsProfile: 'data' } },
    staging: { url: 'https://updraft.example.com', auth: { type: 'jwt', tokenEnv: 'STAGING_JWT' } },
  },
};

describe('CLI connection', () => {
  it('takes the root of a URL given with or without /api/v1', () => {
    expect(rootUrl('http://127.0.0.1:3000/api/v1/', '--url')).toBe('http://127.0.0.1:3000');
    expect(rootUrl('https://x.example.com', '--url')).toBe('https://x.example.com');
    expect(() => rootUrl('ftp://x', '--url')).toThrow('--url ftp://x must be an http or https URL');
    expect(() => rootUrl('nope', '--url')).toThrow('--url nope is not a URL');
  });

  it('uses the default profile: IAM with the service and region read from an API Gateway URL', async () => {
    const env = { UPDRAFT_CONFIG: await configFile(PROFILES) };
    expect(resolveConnection({}, env)).toEqual({
      url: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      credentials: { type: 'iam', region: 'eu-west-1', service: 'execute-api' },
      source: 'profile prod',
      local: false,
    });
  });

  it('signs for lambda on a function URL, with the AWS profile named in the profile', async () => {
    const env = { UPDRAFT_CONFIG: await configFile(PROFILES) };
    expect(resolveConnection({ profile: 'fn' }, env).credentials).toEqual({
      type: 'iam',
      region: 'us-west-2',
      service: 'lambda',
      awsProfile: 'data',
    });
  });

  it('reads a JWT from the variable the profile names, and says which one is missing', async () => {
    const file = await configFile(PROFILES);
    expect(
      resolveConnection({ profile: 'staging' }, { UPDRAFT_CONFIG: file, STAGING_JWT: 'eyJ.a.b' }).credentials,
    ).toEqual({ type: 'bearer', token: 'eyJ.a.b' });
    expect(() => resolveConnection({ profile: 'staging' }, { UPDRAFT_CONFIG: file })).toThrow(
      `profile staging in ${file}: STAGING_JWT is not set`,
    );
  });

  it('names the profiles there are when asked for one that is not', async () => {
    const file = await configFile(PROFILES);
    expect(() => resolveConnection({ profile: 'prd' }, { UPDRAFT_CONFIG: file })).toThrow(
      `no profile prd in ${file} (it has prod, fn, staging): add it, or use --url`,
    );
  });

  it('refuses a config file with a typo in a field, naming it', async () => {
    const file = await configFile({
      profiles: { a: { url: 'https://x.example.com', auth: { type: 'iam', regoin: 'x' } } },
    });
    const error = (() => {
      try {
        resolveConnection({ profile: 'a' }, { UPDRAFT_CONFIG: file });
      } catch (e) {
        return e as CliError;
      }
    })();
    expect(error).toBeInstanceOf(CliError);
    expect(error?.message).toMatch(/profiles\.a\.auth.*regoin.*unknown field/);
  });

  it('lets --url and a token override any profile, and falls back to the local stack', async () => {
    const env = { UPDRAFT_CONFIG: await configFile(PROFILES), UPDRAFT_TOKEN: 'tok' };
    expect(resolveConnection({ url: 'http://127.0.0.1:4000' }, env)).toEqual({
      url: 'http://127.0.0.1:4000',
      credentials: { type: 'bearer', token: 'tok' },
      source: '--url',
      local: true,
    });
    const local = resolveConnection(
      { token: 'given' },
      { UPDRAFT_CONFIG: join(tmpdir(), 'no-such-updraft.json') },
    );
    expect(local).toMatchObject({
      source: 'local',
      local: true,
      credentials: { type: 'bearer', token: 'given' },
    });
  });
});

describe('close names for an unknown DAG', () => {
  it.each([
    { name: 'hourly_et', expected: ['hourly_etl'] },
    { name: 'Hourly_ETL', expected: ['hourly_etl'] },
    { name: 'etl', expected: ['hourly_etl'] },
    { name: 'fanout', expected: ['fanout_weighted'] },
    { name: 'something_else', expected: [] },
  ])('$name → $expected', ({ name, expected }) => {
    expect(
      closeNames(name, ['diamond_cleanup', 'fanout_weighted', 'flaky_retries', 'hourly_etl', 'sensor_wait']),
    ).toEqual(expected);
  });
});
