import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SqsSchedulerEvents } from '#adapters/sqs/sqs-publishers.ts';
import type { SchedulerEvent } from '#ports';
import { decode } from '../../shared/messages.ts';
import { awsTest } from '../support/aws-local.ts';
import { describeSchedulerEvents, type SchedulerEventsHarness } from './scheduler-events.contract.ts';

const sqsTest = awsTest.extend(
  'harness',
  async ({ sqs, queue }): Promise<SchedulerEventsHarness> => ({
    events: new SqsSchedulerEvents(sqs, queue.url),
    receiveAll: async () => {
      const out: SchedulerEvent[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (Messages.length === 0) return out;
        out.push(...Messages.map((m) => decode('scheduler-event', m.Body)));
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    },
  }),
);

describeSchedulerEvents('SQS on fauxqs', sqsTest);
