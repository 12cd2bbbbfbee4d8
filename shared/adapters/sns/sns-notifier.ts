/**
 * Failure notifications on an SNS topic: email, chat and webhooks subscribe to it. The message is
 * the notification as JSON; `type` and `dagId` are message attributes, so a subscription can filter.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Notifier } from '#ports';

function subjectOf(n: Notification): string {
  const text =
    n.type === 'task_failed'
      ? `Updraft: task ${n.dagId}.${n.taskId} failed (${n.runId})`
      : `Updraft: run ${n.dagId} ${n.runId} failed`;
  // SNS subjects: at most 100 printable ASCII characters.
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notification: Notification): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: subjectOf(notification),
        Message: JSON.stringify(notification),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: notification.type },
          dagId: { DataType: 'String', StringValue: notification.dagId },
        },
      }),
    );
  }
}

export { SnsNotifier, subjectOf };
