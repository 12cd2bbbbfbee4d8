import type { SendMessageBatchCommand, SendMessageBatchCommandOutput, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { chunk, type OutgoingMessage, SqsSendError, sendMessages } from '#adapters/sqs/batch-sender.ts';

type Answer = (entries: { Id: string; MessageBody: string }[]) => Partial<SendMessageBatchCommandOutput>;

/** An SQS client whose SendMessageBatch answers come from `answer`; records every request. */
function fakeSqs(
  answer: Answer = (entries) => ({ Successful: entries.map((e) => ({ Id: e.Id }) as never) }),
) {
  const requests: { Id: string; MessageBody: string }[][] = [];
  const client = {
    send: async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries!.map((e) => ({ Id: e.Id!, MessageBody: e.MessageBody! }));
      requests.push(entries);
      return answer(entries);
    },
  };
  return { client: client as unknown as SQSClient, requests };
}

function messages(n: number, size = 10): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({ label: `m${i}`, body: `${i}`.padEnd(size, '.') }));
}

const fast = { retryBaseDelayMs: 1 };

describe('SQS batch sending', () => {
  it('packs at most 10 messages and at most the byte limit into one request, in order', () => {
    const sizes = chunk(messages(23), 1_000).map((c) => c.length);
    expect(sizes).toEqual([10, 10, 3]);
    const bySize = chunk(messages(7, 300), 1_000);
    expect(bySize.map((c) => c.map((m) => m.label))).toEqual([
      ['m0', 'm1', 'm2'],
      ['m3', 'm4', 'm5'],
      ['m6'],
    ]);
  });

  it('counts bytes, not characters, against the limit', () => {
    const wide = [
      { label: 'a', body: 'é'.repeat(300) },
      { label: 'b', body: 'é'.repeat(300) },
    ];
    expect(chunk(wide, 1_000)).toHaveLength(2);
  });

  it('sends every message once when SQS accepts them all', async () => {
    const { client, requests } = fakeSqs();
    await sendMessages(client, 'q', messages(25), fast);
    expect(requests.map((r) => r.length).sort()).toEqual([10, 10, 5]);
    expect(
      requests
        .flat()
        .map((e) => e.MessageBody.replace(/\.+$/, ''))
        .sort((a, b) => +a - +b),
    ).toEqual(Array.from({ length: 25 }, (_, i) => `${i}`));
  });

  it('sends the entries SQS failed on its side again, and only those', async () => {
    // Prepare: the first request fails entries 1 and 3 with a throttling error.
    let calls = 0;
    const { client, requests } = fakeSqs((entries) => {
      calls += 1;
      const failing = calls === 1 ? new Set(['1', '3']) : new Set<string>();
      return {
        Successful: entries.filter((e) => !failing.has(e.Id)).map((e) => ({ Id: e.Id }) as never),
        Failed: entries
          .filter((e) => failing.has(e.Id))
          .map((e) => ({ Id: e.Id, SenderFault: false, Code: 'ThrottlingException' })),
      };
    });
    // Act
    await sendMessages(client, 'q', messages(5), fast);
    // Assess
    expect(requests).toHaveLength(2);
    expect(requests[1]!.map((e) => e.MessageBody)).toEqual([messages(5)[1]!.body, messages(5)[3]!.body]);
  });

  it('gives up after the bounded attempts and names the messages that were not sent', async () => {
    const { client, requests } = fakeSqs((entries) => ({
      Successful: entries.filter((e) => e.Id !== '2').map((e) => ({ Id: e.Id }) as never),
      Failed: entries
        .filter((e) => e.Id === '2')
        .map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })),
    }));
    const error = await sendMessages(client, 'q', messages(4), { ...fast, maxAttempts: 3 }).catch((e) => e);
    expect(error).toBeInstanceOf(SqsSendError);
    expect((error as SqsSendError).failed).toEqual([{ label: 'm2', code: 'InternalError', message: '' }]);
    expect(error.message).toContain('m2 (InternalError)');
    expect(requests).toHaveLength(3);
  });

  it('does not retry an entry SQS refused as malformed, but still sends the others', async () => {
    const { client, requests } = fakeSqs((entries) => ({
      Successful: entries.filter((e) => e.Id !== '0').map((e) => ({ Id: e.Id }) as never),
      Failed: entries
        .filter((e) => e.Id === '0')
        .map((e) => ({ Id: e.Id, SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad char' })),
    }));
    const error = (await sendMessages(client, 'q', messages(12), fast).catch((e) => e)) as SqsSendError;
    expect(error.failed.map((f) => [f.label, f.code])).toEqual([
      ['m0', 'InvalidMessageContents'],
      ['m10', 'InvalidMessageContents'],
    ]);
    expect(requests).toHaveLength(2);
  });

  it('sends again entries that the answer does not mention at all', async () => {
    let calls = 0;
    const { client, requests } = fakeSqs((entries) => {
      calls += 1;
      return { Successful: (calls === 1 ? entries.slice(1) : entries).map((e) => ({ Id: e.Id }) as never) };
    });
    await sendMessages(client, 'q', messages(3), fast);
    expect(requests.map((r) => r.length)).toEqual([3, 1]);
  });

  it('reports every unsent message of a request that failed outright, after the other requests went out', async () => {
    let calls = 0;
    const { client, requests } = fakeSqs((entries) => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return { Successful: entries.map((e) => ({ Id: e.Id }) as never) };
    });
    const error = (await sendMessages(client, 'q', messages(15), { ...fast, concurrency: 1 }).catch(
      (e) => e,
    )) as SqsSendError;
    expect(error.failed).toHaveLength(10);
    expect(new Set(error.failed.map((f) => f.code))).toEqual(new Set(['TimeoutError']));
    expect(requests).toHaveLength(2);
  });

  it('refuses a message larger than the batch limit before sending anything', async () => {
    const { client, requests } = fakeSqs();
    const error = (await sendMessages(client, 'q', [
      ...messages(2),
      { label: 'huge', body: 'x'.repeat(300_000) },
    ]).catch((e) => e)) as SqsSendError;
    expect(error.failed.map((f) => [f.label, f.code])).toEqual([['huge', 'MessageTooLong']]);
    expect(requests).toHaveLength(0);
  });

  it('makes no request for no messages', async () => {
    const { client, requests } = fakeSqs();
    await sendMessages(client, 'q', []);
    expect(requests).toHaveLength(0);
  });
});
