/**
 * Each DAG's next wake-up as one EventBridge Scheduler one-time schedule, in one schedule group.
 *
 * - set: CreateSchedule; if it exists (ConflictException), UpdateSchedule with the full definition.
 *   If it fired and deleted itself between the two calls (ResourceNotFoundException), create again.
 * - remove (`null`): DeleteSchedule; a schedule that is already gone is fine.
 * - `ActionAfterCompletion: 'DELETE'`: a fired schedule removes itself, so the group holds only
 *   wake-ups still to come.
 * - The target (the scheduler function, or the scheduler-events queue) gets the catalog's
 *   `schedule-wakeup` message; failed deliveries are retried per the catalog, then go to the DLQ.
 *
 * Two schedulers setting the same DAG at once: the last write wins, and either time is one the
 * state said was due; the sweep catches whatever a lost or late wake-up would have done.
 */
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { Clock, ScheduleRegistry } from '#ports';
import { encode, messageCatalog } from '../../messages.ts';
import { atExpression, scheduleName } from './schedule-names.ts';

interface EventBridgeScheduleRegistryOptions {
  /** The schedule group holding Updraft's wake-ups (one per deployment). */
  groupName: string;
  /** ARN of what a wake-up invokes: the scheduler function or the scheduler-events queue. */
  targetArn: string;
  /** Role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
  /** Queue receiving wake-ups that could not be delivered. */
  deadLetterArn: string;
  /** Reads "now" for wake-ups already due. @default Date.now */
  clock?: Clock;
  /**
   * A wake-up due sooner than this (or already past) is set this far ahead: an `at()` in the past
   * is not a time EventBridge Scheduler fires at. @default 5000
   */
  minLeadMs?: number;
}

/** Create, or update what exists, this many times before giving up on a DAG's schedule flapping. */
const MAX_UPSERT_ROUNDS = 3;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

class EventBridgeScheduleRegistry implements ScheduleRegistry {
  readonly #clock: Clock;
  readonly #minLeadMs: number;

  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventBridgeScheduleRegistryOptions,
  ) {
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#minLeadMs = options.minLeadMs ?? 5_000;
  }

  async setNextWakeUp(dagId: string, at: number | null): Promise<void> {
    const name = scheduleName(dagId);
    if (at === null) return this.#delete(name);
    const input = this.#definition(name, dagId, Math.max(at, this.#clock.now() + this.#minLeadMs));
    for (let round = 0; round < MAX_UPSERT_ROUNDS; round += 1) {
      try {
        await this.client.send(new CreateScheduleCommand(input));
        return;
      } catch (error) {
        if (errorName(error) !== 'ConflictException') throw error;
      }
      try {
        await this.client.send(new UpdateScheduleCommand(input));
        return;
      } catch (error) {
        if (errorName(error) !== 'ResourceNotFoundException') throw error;
      }
    }
    throw new Error(`schedule ${this.options.groupName}/${name} kept changing; wake-up of ${dagId} not set`);
  }

  async #delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
    }
  }

  /** The whole schedule: UpdateSchedule replaces every field, so both calls send the same. */
  #definition(name: string, dagId: string, at: number): CreateScheduleCommandInput {
    const { retry } = messageCatalog['schedule-wakeup'];
    return {
      Name: name,
      GroupName: this.options.groupName,
      Description: `Updraft: next wake-up of DAG ${dagId}`.slice(0, 512),
      ScheduleExpression: atExpression(at),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: this.options.targetArn,
        RoleArn: this.options.roleArn,
        Input: encode('schedule-wakeup', { type: 'wakeup', dagId }),
        DeadLetterConfig: { Arn: this.options.deadLetterArn },
        RetryPolicy: {
          MaximumRetryAttempts: retry.maximumRetryAttempts,
          MaximumEventAgeInSeconds: retry.maximumEventAgeSeconds,
        },
      },
    };
  }
}

export { EventBridgeScheduleRegistry, type EventBridgeScheduleRegistryOptions };
