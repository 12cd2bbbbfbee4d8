/**
 * Reading a function's environment: each `functions/<name>/config.ts` declares the variables it uses
 * with these helpers and parses them once per cold start. A missing or bad variable names itself.
 */
import { z } from 'zod';
import { DagDefaultsSettings } from '#core/dag-defaults.ts';
import { UpdraftError } from '#core/errors.ts';
import { DEFAULT_SETTINGS, type SchedulerSettings } from '#core/model.ts';
import { ENV } from '../../shared/resources.ts';

type Env = Record<string, string | undefined>;

class ConfigError extends UpdraftError {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
  }
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is required');
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function list(env: Env, name: string): string[] {
  return (optional(env, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const Settings = z
  .object({
    parallelism: z.number().int().min(1),
    taskQueuedTimeoutMs: z.number().int().positive(),
    numStuckInQueuedRetries: z.number().int().nonnegative(),
    heartbeatTimeoutMs: z.number().int().positive(),
    maxTisPerQuery: z.number().int().positive(),
    executorCapacity: z.object({
      lambda: z.number().int().positive().nullable(),
      fargate: z.number().int().positive().nullable(),
    }),
    dagDefaults: DagDefaultsSettings,
    scheduleAfterTaskExecution: z.boolean(),
  })
  .partial()
  .strict();

/**
 * `UPDRAFT_SETTINGS` (JSON overrides of the scheduler settings; absent means the defaults), parsed
 * once for every function and the API: `fail` turns a message into the caller's own error.
 */
function parseSettings(raw: string | undefined, fail: (message: string) => Error): SchedulerSettings {
  if (!raw) return DEFAULT_SETTINGS;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw fail('is not JSON');
  }
  const parsed = Settings.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw fail(`${issue.path.join('.') || '(value)'}: ${issue.message}`);
  }
  const { dagDefaults, ...rest } = parsed.data;
  // dagDefaults may name only some fields: the others keep their defaults.
  return {
    ...DEFAULT_SETTINGS,
    ...rest,
    dagDefaults: { ...DEFAULT_SETTINGS.dagDefaults, ...dagDefaults },
  } as SchedulerSettings;
}

/** `UPDRAFT_SETTINGS` of a function's environment. */
function settings(env: Env): SchedulerSettings {
  return parseSettings(optional(env, ENV.settings), (message) => new ConfigError(ENV.settings, message));
}

/** `UPDRAFT_COUNTER_SHARDS`: items per hot counter of the DynamoDB store; absent means 1. */
function counterShards(env: Env): number {
  const raw = optional(env, ENV.counterShards);
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(ENV.counterShards, 'must be a whole number ≥ 1');
  return n;
}

/** Where the AWS clients point: the region, and an emulator's endpoint for local runs. */
function aws(env: Env): { region: string; endpoint?: string } {
  const endpoint = optional(env, ENV.awsEndpoint);
  return { region: optional(env, 'AWS_REGION') ?? 'us-east-1', ...(endpoint && { endpoint }) };
}

/** What every scheduling function needs: the table, both queues, the schedules and the settings. */
function scheduling(env: Env) {
  return {
    aws: aws(env),
    tableName: required(env, ENV.tableName),
    dispatchQueueUrl: required(env, ENV.dispatchQueueUrl),
    schedulerEventsQueueUrl: required(env, ENV.schedulerEventsQueueUrl),
    schedules: {
      groupName: required(env, ENV.scheduleGroup),
      targetArn: required(env, ENV.scheduleTargetArn),
      roleArn: required(env, ENV.scheduleRoleArn),
      deadLetterArn: required(env, ENV.scheduleDlqArn),
    },
    settings: settings(env),
    counterShards: counterShards(env),
  };
}

type SchedulingConfig = ReturnType<typeof scheduling>;

export {
  ConfigError,
  counterShards,
  type Env,
  list,
  optional,
  parseSettings,
  required,
  type SchedulingConfig,
  scheduling,
  settings,
};
