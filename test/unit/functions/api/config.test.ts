/** The api function's environment, parsed once per cold start; a missing or bad variable names itself. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../functions/api/config.ts';

const BASE = {
  TABLE_NAME: 'updraft',
  SCHEDULER_EVENTS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/updraft-scheduler-events',
  BUCKET_NAME: 'updraft-bucket',
  API_AUTH_MODE: 'IAM',
};

describe('api config', () => {
  it('reads a complete environment', () => {
    const config = loadConfig({
      ...BASE,
      AWS_REGION: 'eu-west-1',
      UPDRAFT_VERSION: '1.2.3',
      UPDRAFT_SETTINGS: '{"parallelism": 8, "dagDefaults": {"retries": 3}}',
    });
    expect(config).toMatchObject({
      aws: { region: 'eu-west-1' },
      tableName: 'updraft',
      bucketName: 'updraft-bucket',
      auth: { mode: 'iam' },
      deployment: {
        version: '1.2.3',
        commit: null,
        stage: 'aws',
        dagBucket: { name: 'updraft-bucket', endpoint: null },
      },
    });
    expect(config.settings.parallelism).toBe(8);
    // The DAG defaults it reports on /version, the others Airflow's.
    expect(config.settings.dagDefaults).toMatchObject({ retries: 3, maxActiveRuns: 16 });
  });

  it.each([
    { case: 'no table', env: { ...BASE, TABLE_NAME: ' ' }, message: 'TABLE_NAME is required' },
    {
      case: 'no queue',
      env: { ...BASE, SCHEDULER_EVENTS_QUEUE_URL: undefined },
      message: 'SCHEDULER_EVENTS_QUEUE_URL is required',
    },
    {
      case: 'no auth mode',
      env: { ...BASE, API_AUTH_MODE: undefined },
      message: 'API_AUTH_MODE is required (IAM, JWT or TOKEN)',
    },
    {
      case: 'an unknown auth mode',
      env: { ...BASE, API_AUTH_MODE: 'basic' },
      message: 'API_AUTH_MODE must be IAM, JWT or TOKEN',
    },
    {
      case: 'TOKEN without a token',
      env: { ...BASE, API_AUTH_MODE: 'TOKEN' },
      message: 'API_TOKEN is required when API_AUTH_MODE is TOKEN',
    },
    {
      case: 'a short token',
      env: { ...BASE, API_AUTH_MODE: 'TOKEN', API_TOKEN: 'abc' },
      message: 'API_TOKEN must be at least 16 characters',
    },
    {
      case: 'settings that are not JSON',
      env: { ...BASE, UPDRAFT_SETTINGS: '{' },
      message: 'UPDRAFT_SETTINGS is not JSON',
    },
    {
      case: 'a bad setting',
      env: { ...BASE, UPDRAFT_SETTINGS: '{"parallelism": 0}' },
      message: /^UPDRAFT_SETTINGS parallelism: /,
    },
  ])('refuses $case, naming the variable', ({ env, message }) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
