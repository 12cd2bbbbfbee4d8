import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import {
  EventBridgeScheduleRegistry,
  type EventBridgeScheduleRegistryOptions,
} from '#adapters/eventbridge/eventbridge-schedule-registry.ts';
import { atExpression, parseAtExpression, scheduleName } from '#adapters/eventbridge/schedule-names.ts';
import { decode } from '../../../shared/messages.ts';
import { FakeSchedulerClient, type SchedulerCommand } from '../../support/fake-scheduler-client.ts';

const NOW = Date.UTC(2024, 2, 10, 6, 30, 0);
const OPTIONS: EventBridgeScheduleRegistryOptions = {
  groupName: 'updraft-prod',
  targetArn: 'arn:aws:sqs:eu-west-1:123456789012:updraft-scheduler-events',
  roleArn: 'arn:aws:iam::123456789012:role/updraft-scheduler-invoke',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:updraft-schedules-dlq',
  clock: { now: () => NOW },
};

function setUp(before?: (command: SchedulerCommand) => void) {
  const fake = new FakeSchedulerClient({ before });
  return { fake, registry: new EventBridgeScheduleRegistry(fake.asClient(), OPTIONS) };
}

const kinds = (commands: SchedulerCommand[]) => commands.map((c) => c.constructor.name);

describe('schedule names', () => {
  it.each([
    { case: 'a plain id', dagId: 'etl_daily.v2-x', name: 'etl_daily.v2-x' },
    { case: 'exactly 64 characters', dagId: 'a'.repeat(64), name: 'a'.repeat(64) },
  ])('keeps $case as it is', ({ dagId, name }) => {
    expect(scheduleName(dagId)).toBe(name);
  });

  it('cuts a long id to 64 characters ending in a hash of the whole id', () => {
    const one = scheduleName(`${'a'.repeat(70)}1`);
    const two = scheduleName(`${'a'.repeat(70)}2`);
    expect(one).toHaveLength(64);
    expect(one).toMatch(/^a{55}-[0-9a-f]{8}$/);
    expect(one).not.toBe(two);
  });

  it('replaces characters a schedule name cannot hold, and adds the hash so ids stay apart', () => {
    expect(scheduleName('etl:daily')).toMatch(/^etl_daily-[0-9a-f]{8}$/);
    expect(scheduleName('etl:daily')).not.toBe(scheduleName('etl_daily'));
    expect(scheduleName('日本')).toMatch(/^[0-9A-Za-z._-]{1,64}$/);
  });
});

describe('at() expressions', () => {
  it('writes the instant in UTC without a zone suffix', () => {
    expect(atExpression(Date.UTC(2024, 10, 3, 1, 30, 5))).toBe('at(2024-11-03T01:30:05)');
  });

  it('rounds up to the next whole second, never down', () => {
    expect(atExpression(Date.UTC(2024, 11, 31, 23, 59, 59, 1))).toBe('at(2025-01-01T00:00:00)');
    expect(parseAtExpression(atExpression(NOW + 1))).toBe(NOW + 1000);
  });
});

describe('EventBridgeScheduleRegistry', () => {
  it('creates a one-time schedule that delivers the wake-up message to the target, then deletes itself', async () => {
    // Prepare
    const { fake, registry } = setUp();
    // Act
    await registry.setNextWakeUp('etl', Date.UTC(2024, 2, 10, 7, 0, 0));
    // Assess
    const [command] = fake.commands;
    expect(command).toBeInstanceOf(CreateScheduleCommand);
    const input = command!.input as CreateScheduleCommandInput;
    expect(input).toMatchObject({
      Name: 'etl',
      GroupName: 'updraft-prod',
      ScheduleExpression: 'at(2024-03-10T07:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: OPTIONS.targetArn,
        RoleArn: OPTIONS.roleArn,
        DeadLetterConfig: { Arn: OPTIONS.deadLetterArn },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 300 },
      },
    });
    expect(decode('schedule-wakeup', input.Target!.Input)).toEqual({ type: 'wakeup', dagId: 'etl' });
  });

  it('updates the schedule with the same definition when it exists already', async () => {
    const { fake, registry } = setUp();
    await registry.setNextWakeUp('etl', NOW + 3_600_000);
    await registry.setNextWakeUp('etl', NOW + 60_000);
    expect(kinds(fake.commands)).toEqual([
      'CreateScheduleCommand',
      'CreateScheduleCommand',
      'UpdateScheduleCommand',
    ]);
    expect(fake.commands[2]!.input).toEqual(fake.commands[1]!.input);
    expect(fake.wakeUps()).toEqual(new Map([['etl', NOW + 60_000]]));
  });

  it('creates the schedule again when it fired and deleted itself between create and update', async () => {
    let fireBeforeUpdate = true;
    const { fake, registry } = setUp((command) => {
      if (command instanceof UpdateScheduleCommand && fireBeforeUpdate) {
        fireBeforeUpdate = false;
        fake.fireUntil(Number.MAX_SAFE_INTEGER);
      }
    });
    await registry.setNextWakeUp('etl', NOW + 60_000);
    await registry.setNextWakeUp('etl', NOW + 120_000);
    expect(kinds(fake.commands)).toEqual([
      'CreateScheduleCommand',
      'CreateScheduleCommand',
      'UpdateScheduleCommand',
      'CreateScheduleCommand',
    ]);
    expect(fake.wakeUps()).toEqual(new Map([['etl', NOW + 120_000]]));
  });

  it('sets a wake-up that is due already a few seconds ahead, so that it still fires', async () => {
    const { fake, registry } = setUp();
    await registry.setNextWakeUp('etl', NOW - 3_600_000);
    expect(fake.wakeUps().get('etl')).toBe(NOW + 5_000);
  });

  it('deletes the schedule for null, and ignores one that is already gone', async () => {
    const { fake, registry } = setUp();
    await registry.setNextWakeUp('etl', NOW + 60_000);
    await registry.setNextWakeUp('etl', null);
    await registry.setNextWakeUp('etl', null);
    expect(kinds(fake.commands)).toEqual([
      'CreateScheduleCommand',
      'DeleteScheduleCommand',
      'DeleteScheduleCommand',
    ]);
    expect((fake.commands[1] as DeleteScheduleCommand).input).toEqual({
      Name: 'etl',
      GroupName: 'updraft-prod',
    });
    expect(fake.schedules.size).toBe(0);
  });

  it('passes on errors other than the expected races', async () => {
    const throttled = new ThrottlingException({ message: 'slow down', Message: 'slow down', $metadata: {} });
    const { registry } = setUp((command) => {
      if (!(command instanceof DeleteScheduleCommand)) throw throttled;
    });
    await expect(registry.setNextWakeUp('etl', NOW + 60_000)).rejects.toBe(throttled);
  });

  it('gives up, naming the DAG, when the schedule keeps appearing and vanishing', async () => {
    const { fake, registry } = setUp((command) => {
      if (command instanceof UpdateScheduleCommand) {
        throw new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} });
      }
    });
    fake.schedules.set('updraft-prod/etl', {} as CreateScheduleCommandInput);
    await expect(registry.setNextWakeUp('etl', NOW + 60_000)).rejects.toThrow(/wake-up of etl not set/);
    expect(fake.commands).toHaveLength(6);
  });
});
