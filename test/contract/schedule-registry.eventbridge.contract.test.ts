/**
 * EventBridge Scheduler has no emulator: the registry runs against FakeSchedulerClient, which plays
 * the AWS side (create/update/delete answers, firing and self-deleting one-time schedules). This
 * proves the registry's calls and what they carry, not AWS's acceptance of them.
 */
import { test } from 'vitest';
import { EventBridgeScheduleRegistry } from '#adapters/eventbridge/eventbridge-schedule-registry.ts';
import { FakeSchedulerClient } from '../support/fake-scheduler-client.ts';
import { describeScheduleRegistry, type ScheduleRegistryHarness } from './schedule-registry.contract.ts';

const eventBridgeTest = test.extend('harness', async (): Promise<ScheduleRegistryHarness> => {
  const start = Date.UTC(2024, 0, 1);
  let now = start;
  const fake = new FakeSchedulerClient();
  const registry = new EventBridgeScheduleRegistry(fake.asClient(), {
    groupName: 'updraft-test',
    targetArn: 'arn:aws:lambda:us-east-1:000000000000:function:scheduler',
    roleArn: 'arn:aws:iam::000000000000:role/scheduler-invoke',
    deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:scheduler-dlq',
    clock: { now: () => now },
  });
  return {
    registry,
    start,
    pending: () => fake.wakeUps(),
    elapse: async (until) => {
      now = Math.max(now, until);
      return fake.fireUntil(until);
    },
  };
});

describeScheduleRegistry('EventBridge Scheduler (recording client)', eventBridgeTest);
