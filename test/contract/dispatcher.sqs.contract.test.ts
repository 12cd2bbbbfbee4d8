import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { SqsDispatcher } from '#adapters/sqs/sqs-publishers.ts';
import { decode } from '../../shared/messages.ts';
import { awsTest } from '../support/aws-local.ts';
import { type DispatcherHarness, describeDispatcher, type ReceivedDispatch } from './dispatcher.contract.ts';

/**
 * Long enough that nothing received reappears while a test still reads (a loaded machine can take
 * seconds to receive hundreds of messages); `passVisibilityTimeout` ends it at once instead of waiting.
 */
const VISIBILITY_SECONDS = 60;

const sqsTest = awsTest.extend('harness', async ({ sqs, queue }): Promise<DispatcherHarness> => {
  const hidden = new Set<string>();
  const receiveAll = async (): Promise<ReceivedDispatch[]> => {
    const out: ReceivedDispatch[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: VISIBILITY_SECONDS,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      if (Messages.length === 0) return out;
      for (const m of Messages) {
        hidden.add(m.ReceiptHandle!);
        out.push({
          message: decode('dispatch', m.Body),
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount),
          ack: async () => {
            hidden.delete(m.ReceiptHandle!);
            await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle }));
          },
        });
      }
    }
  };
  return {
    dispatcher: new SqsDispatcher(sqs, queue.url),
    receiveAll,
    // What a lapsed visibility timeout does, without the wait: every unacknowledged message is visible again.
    passVisibilityTimeout: async () => {
      for (const handle of hidden) {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queue.url,
            ReceiptHandle: handle,
            VisibilityTimeout: 0,
          }),
        );
      }
      hidden.clear();
    },
  };
});

describeDispatcher('SQS on fauxqs', sqsTest);
