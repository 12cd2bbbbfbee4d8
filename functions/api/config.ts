/**
 * The api function's configuration, parsed once per cold start from its environment. A missing or
 * bad variable names itself. Variables (the CDK construct sets them; names shared with the other
 * functions are those of shared/resources.ts):
 *
 * | variable                     | required | meaning                                                      |
 * | ---------------------------- | -------- | ------------------------------------------------------------ |
 * | `TABLE_NAME`                 | yes      | the state store's DynamoDB table                             |
 * | `SCHEDULER_EVENTS_QUEUE_URL` | yes      | where "look at this now" events go (trigger, clear, pools…)  |
 * | `BUCKET_NAME`                | yes      | the bucket holding task logs (`logs/…`)                      |
 * | `API_AUTH_MODE`              | yes      | `IAM` (SigV4) or `JWT`, as the API Gateway authorizer is set; `TOKEN` for a self-hosted API |
 * | `API_TOKEN`                  | TOKEN    | the bearer token, ≥ 16 characters                            |
 * | `UPDRAFT_VERSION`            | no       | the version `/api/v1/version` reports (default `unknown`)    |
 * | `UPDRAFT_COMMIT`             | no       | the source revision it reports                               |
 * | `UPDRAFT_STAGE`              | no       | the stage name it reports (default `aws`)                    |
 * | `UPDRAFT_SETTINGS`           | no       | JSON overrides of the scheduler settings                     |
 * | `UPDRAFT_COUNTER_SHARDS`     | no       | items per hot counter of the store (default 1), as the others |
 * | `AWS_REGION`                 | no       | set by Lambda (default `us-east-1`)                          |
 * | `AWS_ENDPOINT_URL`           | no       | an emulator's endpoint, for local runs only                  |
 */
import { z } from 'zod';
import type { SchedulerSettings } from '#core/model.ts';
import { parseSettings } from '../common/env.ts';
import type { AuthConfig } from './auth.ts';
import type { DeploymentInfo } from './deps.ts';

export interface ApiConfig {
  aws: { region: string; endpoint?: string };
  tableName: string;
  schedulerEventsQueueUrl: string;
  bucketName: string;
  auth: AuthConfig;
  deployment: DeploymentInfo;
  settings: SchedulerSettings;
  /** Items per hot counter of the DynamoDB store: the same number every function uses. */
  counterShards: number;
}

const required = (hint = '') => z.string({ error: `is required${hint}` });

const Env = z.object({
  TABLE_NAME: required(),
  SCHEDULER_EVENTS_QUEUE_URL: required(),
  BUCKET_NAME: required(),
  API_AUTH_MODE: required(' (IAM, JWT or TOKEN)')
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['iam', 'jwt', 'token'], { error: 'must be IAM, JWT or TOKEN' })),
  API_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  UPDRAFT_VERSION: z.string().optional(),
  UPDRAFT_COMMIT: z.string().optional(),
  UPDRAFT_STAGE: z.string().optional(),
  UPDRAFT_SETTINGS: z.string().optional(),
  UPDRAFT_COUNTER_SHARDS: z.coerce
    .number({ error: 'must be a whole number ≥ 1' })
    .int({ error: 'must be a whole number ≥ 1' })
    .min(1, { error: 'must be a whole number ≥ 1' })
    .optional(),
  AWS_REGION: z.string().optional(),
  AWS_ENDPOINT_URL: z.string().optional(),
});

/** The variables this function reads, trimmed; empty ones count as unset. */
function present(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(Env.shape)) {
    const value = env[key]?.trim();
    if (value) out[key] = value;
  }
  return out;
}

class ConfigError extends Error {
  override name = 'ConfigError';
}

function settingsOf(raw: string | undefined): SchedulerSettings {
  return parseSettings(raw, (message) => new ConfigError(`UPDRAFT_SETTINGS ${message}`));
}

function loadConfig(env: Record<string, string | undefined>): ApiConfig {
  const parsed = Env.safeParse(present(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${String(issue.path[0])} ${issue.message}`);
  }
  const e = parsed.data;
  let auth: AuthConfig;
  if (e.API_AUTH_MODE === 'token') {
    if (!e.API_TOKEN) throw new ConfigError('API_TOKEN is required when API_AUTH_MODE is TOKEN');
    auth = { mode: 'token', token: e.API_TOKEN };
  } else auth = { mode: e.API_AUTH_MODE };
  return {
    aws: { region: e.AWS_REGION ?? 'us-east-1', ...(e.AWS_ENDPOINT_URL && { endpoint: e.AWS_ENDPOINT_URL }) },
    tableName: e.TABLE_NAME,
    schedulerEventsQueueUrl: e.SCHEDULER_EVENTS_QUEUE_URL,
    bucketName: e.BUCKET_NAME,
    auth,
    deployment: {
      version: e.UPDRAFT_VERSION ?? 'unknown',
      commit: e.UPDRAFT_COMMIT ?? null,
      stage: e.UPDRAFT_STAGE ?? 'aws',
      // DAG files live under dags/ in the same bucket as the logs.
      dagBucket: { name: e.BUCKET_NAME, endpoint: e.AWS_ENDPOINT_URL ?? null },
    },
    settings: settingsOf(e.UPDRAFT_SETTINGS),
    counterShards: e.UPDRAFT_COUNTER_SHARDS ?? 1,
  };
}

export { ConfigError, loadConfig };
