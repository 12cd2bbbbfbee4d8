/**
 * The two ports that write to SQS: the dispatch queue (claimed tries → workers) and the
 * scheduler-events queue (events → scheduler). Bodies are encoded through the message catalog.
 * Standard queues: no message group or deduplication id, so a message may arrive twice.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { tiKeyString } from '#core/model.ts';
import type { Dispatcher, DispatchMessage, SchedulerEvent, SchedulerEvents } from '#ports';
import { encode } from '../../messages.ts';
import { type SqsSendOptions, sendMessages } from './batch-sender.ts';

class SqsDispatcher implements Dispatcher {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly options: SqsSendOptions = {},
  ) {}

  /** Sends every message or throws an `SqsSendError` naming the tries that were not sent. */
  async dispatch(messages: DispatchMessage[]): Promise<void> {
    const outgoing = messages.map((m) => ({
      label: `${tiKeyString(m.key)}#${m.tryNumber}`,
      body: encode('dispatch', m),
    }));
    await sendMessages(this.client, this.queueUrl, outgoing, this.options);
  }
}

function eventLabel(event: SchedulerEvent): string {
  switch (event.type) {
    case 'task_finished':
    case 'run_triggered':
      return `${event.type}:${event.dagId}/${event.runId}`;
    case 'dag_registered':
      return `${event.type}:${event.dagId}`;
    case 'pool_changed':
      return `${event.type}:${event.pool}`;
    case 'tick':
      return `${event.type}:${event.dagId ?? '*'}`;
  }
}

class SqsSchedulerEvents implements SchedulerEvents {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly options: SqsSendOptions = {},
  ) {}

  /** Sends every event or throws an `SqsSendError` naming the events that were not sent. */
  async publish(events: SchedulerEvent[]): Promise<void> {
    const outgoing = events.map((e) => ({ label: eventLabel(e), body: encode('scheduler-event', e) }));
    await sendMessages(this.client, this.queueUrl, outgoing, this.options);
  }
}

export { SqsDispatcher, SqsSchedulerEvents };
