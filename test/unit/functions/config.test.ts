import { describe, expect, it } from 'vitest';
import { loadConfig as dagProcessorConfig } from '../../../functions/dag-processor/config.ts';
import { loadConfig as schedulerConfig } from '../../../functions/scheduler/config.ts';
import { loadConfig as workerConfig } from '../../../functions/worker/config.ts';
import { ENV, FUNCTIONS } from '../../../shared/resources.ts';

const BASE = {
  TABLE_NAME: 'updraft',
  DISPATCH_QUEUE_URL: 'https://sqs/dispatch',
  SCHEDULER_EVENTS_QUEUE_URL: 'https://sqs/events',
  SCHEDULE_GROUP: 'updraft',
  SCHEDULE_TARGET_ARN: 'arn:aws:lambda:scheduler',
  SCHEDULE_ROLE_ARN: 'arn:aws:iam::role/scheduler',
  SCHEDULE_DLQ_ARN: 'arn:aws:sqs:dlq',
  BUCKET_NAME: 'bucket',
  AWS_REGION: 'eu-west-1',
};

describe('function configuration', () => {
  it.each(['TABLE_NAME', 'DISPATCH_QUEUE_URL', 'SCHEDULE_ROLE_ARN'])('names a missing %s', (name) => {
    const env: Record<string, string | undefined> = { ...BASE, [name]: undefined };
    expect(() => schedulerConfig(env)).toThrow(`${name} is required`);
  });

  it('reads settings overrides and rejects a bad one by its field', () => {
    expect(schedulerConfig({ ...BASE, UPDRAFT_SETTINGS: '{"parallelism":64}' }).settings.parallelism).toBe(
      64,
    );
    expect(() => schedulerConfig({ ...BASE, UPDRAFT_SETTINGS: '{"parallelism":0}' })).toThrow(
      /UPDRAFT_SETTINGS parallelism:/,
    );
    expect(() => schedulerConfig({ ...BASE, UPDRAFT_SETTINGS: '{"paralelism":3}' })).toThrow(
      /UPDRAFT_SETTINGS/,
    );
  });

  it('reads DAG defaults from the settings, each field left out keeping Airflow’s', () => {
    const settings = dagProcessorConfig({
      ...BASE,
      UPDRAFT_SETTINGS: '{"parallelism":8,"dagDefaults":{"maxActiveRuns":2,"retryDelayMs":1000}}',
    }).settings;
    expect(settings.parallelism).toBe(8);
    expect(settings.dagDefaults).toEqual({
      maxActiveRuns: 2,
      maxActiveTasks: 16,
      maxConsecutiveFailedDagRuns: 0,
      retries: 0,
      retryDelayMs: 1000,
      executionTimeoutMs: null,
    });
    expect(dagProcessorConfig(BASE).settings.dagDefaults.maxActiveRuns).toBe(16);
    expect(() =>
      dagProcessorConfig({ ...BASE, UPDRAFT_SETTINGS: '{"dagDefaults":{"maxActiveTasks":0}}' }),
    ).toThrow(/UPDRAFT_SETTINGS dagDefaults\.maxActiveTasks:/);
  });

  it('needs the bucket for the worker and the dag-processor, and ECS only when a cluster is set', () => {
    expect(() => workerConfig({ ...BASE, BUCKET_NAME: '' })).toThrow('BUCKET_NAME is required');
    expect(() => dagProcessorConfig({ ...BASE, BUCKET_NAME: undefined })).toThrow('BUCKET_NAME is required');
    expect(workerConfig(BASE).ecs).toBeNull();
    expect(() => workerConfig({ ...BASE, ECS_CLUSTER: 'c' })).toThrow('ECS_TASK_DEFINITION is required');
  });

  it('declares in resources.ts every variable a function reads', () => {
    // Prepare: every variable the worker's config reads, set.
    const names = FUNCTIONS.worker.env.map((k) => ENV[k]);
    expect(names).toEqual(expect.arrayContaining(Object.keys(BASE).filter((n) => n !== 'AWS_REGION')));
  });
});
