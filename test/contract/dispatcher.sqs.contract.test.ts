import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SqsDispatcher } from '#adapters/sqs/sqs-publishers.ts';
import { decode } from '../../shared/messages.ts';
import { awsTest } from '../support/aws-local.ts';
import { type DispatcherHarness, describeDispatcher, type ReceivedDispatch } from './dispatcher.contract.ts';

/** Short, so that the redelivery test waits about a second. */
const VISIBILITY_SECONDS = 1;

const sqsTest = awsTest.extend('harness', async ({ sqs, queue }): Promise<DispatcherHarness> => {
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
        out.push({
          message: decode('dispatch', m.Body),
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount),
          ack: async () => {
            await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle }));
          },
        });
      }
    }
  };
  return {
    dispatcher: new SqsDispatcher(sqs, queue.url),
    receiveAll,
    passVisibilityTimeout: () =>
      new Promise((resolve) => setTimeout(resolve, VISIBILITY_SECONDS * 1000 + 100)),
  };
});

describeDispatcher('SQS on fauxqs', sqsTest);
