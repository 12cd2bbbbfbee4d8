/**
 * What the claim transaction relies on, proven on DynamoDB Local itself (not on a mock): the table
 * definition is accepted, a counter condition admits exactly up to its limit inside a transaction,
 * a lost condition cancels the whole transaction with a reason per item, and arithmetic in a
 * condition is rejected.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { both, counterHasRoom, maxBefore, tiStillAsRead } from '#adapters/dynamodb/conditions.ts';
import { createTableInput } from '#adapters/dynamodb/table.ts';

const client = new DynamoDBClient({
  endpoint: inject('ddbEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const table = `updraft_${process.pid}_${Date.now()}`;

function raise(key: string, amount: number, limit: number) {
  return {
    Update: {
      TableName: table,
      Key: { pk: { S: key }, sk: { S: 'CTR' } },
      UpdateExpression: 'ADD #used :n',
      ConditionExpression: counterHasRoom,
      ExpressionAttributeNames: { '#used': 'used' },
      ExpressionAttributeValues: {
        ':n': { N: String(amount) },
        ':max': { N: String(maxBefore(limit, amount) ?? -1) },
      },
    },
  };
}

async function used(key: string): Promise<number> {
  const item = await client.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: key }, sk: { S: 'CTR' } } }),
  );
  return Number(item.Item?.used?.N ?? 0);
}

beforeAll(async () => {
  await client.send(new CreateTableCommand(createTableInput(table)));
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
});

describe('DynamoDB Local', () => {
  it('accepts the table definition the stack and the local stack share', async () => {
    // beforeAll created it; a second create of the same name fails, proving it exists.
    await expect(client.send(new CreateTableCommand(createTableInput(table)))).rejects.toThrow();
  });

  it('raises a counter in a transaction exactly up to its limit', async () => {
    for (let i = 0; i < 3; i += 1)
      await client.send(new TransactWriteItemsCommand({ TransactItems: [raise('pool/a', 2, 6)] }));
    expect(await used('pool/a')).toBe(6);
    await expect(
      client.send(new TransactWriteItemsCommand({ TransactItems: [raise('pool/a', 1, 6)] })),
    ).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(await used('pool/a')).toBe(6);
  });

  it('cancels the whole transaction when one condition fails, with a reason per item', async () => {
    const error = await client
      .send(new TransactWriteItemsCommand({ TransactItems: [raise('pool/b', 1, 5), raise('pool/a', 1, 6)] }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const reasons = (error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code);
    expect(reasons).toEqual(['None', 'ConditionalCheckFailed']);
    expect(await used('pool/b')).toBe(0);
  });

  it('applies a task-instance condition only to the state and try that were read', async () => {
    const key = { pk: { S: 'RUN#etl#r1' }, sk: { S: 'TI#extract#-1' } };
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET #state = :s, #tryNumber = :t',
        ExpressionAttributeNames: { '#state': 'state', '#tryNumber': 'tryNumber' },
        ExpressionAttributeValues: { ':s': { S: 'scheduled' }, ':t': { N: '1' } },
      }),
    );
    const claim = (tryNumber: number) =>
      client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET #state = :queued',
          ConditionExpression: both(tiStillAsRead),
          ExpressionAttributeNames: { '#state': 'state', '#tryNumber': 'tryNumber' },
          ExpressionAttributeValues: {
            ':queued': { S: 'queued' },
            ':expectedState': { S: 'scheduled' },
            ':expectedTry': { N: String(tryNumber) },
          },
        }),
      );
    await expect(claim(2)).rejects.toThrow(/conditional request failed/i);
    await expect(claim(1)).resolves.toBeDefined();
    await expect(claim(1)).rejects.toThrow(/conditional request failed/i);
  });

  it('admits the first raise of a counter that does not exist yet whatever :max says, so an impossible raise is never sent', async () => {
    // limit 0, amount 1: max would be -1, but the item is absent, so the condition holds.
    await client.send(new TransactWriteItemsCommand({ TransactItems: [raise('pool/zero', 1, 0)] }));
    expect(await used('pool/zero')).toBe(1);
    expect(maxBefore(0, 1)).toBeNull();
  });

  it('rejects arithmetic in a condition, which is why limits are computed in code', async () => {
    const attempt = client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'pool/c' }, sk: { S: 'CTR' } },
        UpdateExpression: 'ADD #used :n',
        ConditionExpression: '#used + :n <= :limit',
        ExpressionAttributeNames: { '#used': 'used' },
        ExpressionAttributeValues: { ':n': { N: '1' }, ':limit': { N: '5' } },
      }),
    );
    await expect(attempt).rejects.toThrow(/Syntax error|Invalid ConditionExpression/i);
  });
});

describe('condition expressions', () => {
  it('are the strings the store sends', () => {
    expect(counterHasRoom).toBe('attribute_not_exists(#used) OR #used <= :max');
    expect(both(tiStillAsRead, counterHasRoom)).toBe(
      '(#state = :expectedState AND #tryNumber = :expectedTry) AND (attribute_not_exists(#used) OR #used <= :max)',
    );
    expect(maxBefore(128, 3)).toBe(125);
    expect(maxBefore(2, 3)).toBeNull();
  });
});
