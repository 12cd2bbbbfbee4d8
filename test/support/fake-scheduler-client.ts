/**
 * A stand-in for the AWS side of EventBridge Scheduler, which has no emulator: a `SchedulerClient`
 * whose `send` records every command and keeps schedules in a map with the service's answers that
 * the registry depends on (ConflictException on a second create, ResourceNotFoundException on an
 * update or delete of a missing schedule). `fireUntil` plays the service firing one-time schedules
 * and deleting them (`ActionAfterCompletion: 'DELETE'`).
 *
 * It proves what the registry sends, not how AWS treats it: the shape of the expression, the name
 * rules and the target are checked here, their acceptance by AWS only in a deployed e2e.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { parseAtExpression } from '#adapters/eventbridge/schedule-names.ts';
import { decode } from '../../shared/messages.ts';

/** What the SDK's exception classes take: a message, in both spellings, and response metadata. */
function errorOptions(message: string) {
  return { message, Message: message, $metadata: {} };
}

type SchedulerCommand = CreateScheduleCommand | UpdateScheduleCommand | DeleteScheduleCommand;

interface FakeSchedulerClientOptions {
  /** Called before each command; throw from it to inject a failure. */
  before?: (command: SchedulerCommand) => void;
}

class FakeSchedulerClient {
  readonly commands: SchedulerCommand[] = [];
  readonly schedules = new Map<string, CreateScheduleCommandInput>();

  constructor(private readonly options: FakeSchedulerClientOptions = {}) {}

  /** This object typed as the SDK client the registry takes. */
  asClient(): SchedulerClient {
    return this as unknown as SchedulerClient;
  }

  async send(command: SchedulerCommand): Promise<object> {
    this.commands.push(command);
    this.options.before?.(command);
    const id = `${command.input.GroupName ?? 'default'}/${command.input.Name}`;
    if (command instanceof CreateScheduleCommand) {
      if (this.schedules.has(id)) throw new ConflictException(errorOptions(`${id} exists`));
      this.schedules.set(id, command.input);
      return { ScheduleArn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${id}` };
    }
    if (command instanceof UpdateScheduleCommand) {
      if (!this.schedules.has(id)) throw new ResourceNotFoundException(errorOptions(`${id} not found`));
      this.schedules.set(id, command.input);
      return { ScheduleArn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${id}` };
    }
    if (command instanceof DeleteScheduleCommand) {
      if (!this.schedules.delete(id)) throw new ResourceNotFoundException(errorOptions(`${id} not found`));
      return {};
    }
    throw new Error(`FakeSchedulerClient: unexpected command ${(command as object).constructor.name}`);
  }

  /** The wake-ups the schedules would deliver, by the DAG named in their payload. */
  wakeUps(): Map<string, number> {
    const out = new Map<string, number>();
    for (const input of this.schedules.values()) {
      const body = decode('schedule-wakeup', input.Target!.Input);
      if (body.type === 'wakeup') out.set(body.dagId, parseAtExpression(input.ScheduleExpression!)!);
    }
    return out;
  }

  /** Fires the schedules due at or before `until`, earliest first, deleting them; returns their DAGs. */
  fireUntil(until: number): string[] {
    const due = [...this.schedules]
      .map(([id, input]) => ({ id, input, at: parseAtExpression(input.ScheduleExpression!)! }))
      .filter((s) => s.at <= until)
      .sort((a, b) => a.at - b.at);
    const fired: string[] = [];
    for (const s of due) {
      this.schedules.delete(s.id);
      const body = decode('schedule-wakeup', s.input.Target!.Input);
      if (body.type === 'wakeup') fired.push(body.dagId);
    }
    return fired;
  }
}

export { FakeSchedulerClient, type SchedulerCommand };
