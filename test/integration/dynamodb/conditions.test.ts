/**
 * What the store's conditions rely on, proven on DynamoDB Local itself (not on a mock): the table
 * definition is accepted, a counter condition admits exactly up to its limit inside a transaction,
 * a lost condition cancels the whole transaction with a reason per item and the old item
 * (ALL_OLD), arithmetic in a condition is rejected, and no write replaces an item of another
 * schema version.
 */
import {
  CreateTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect } from 'vitest';
import { raiseAction } from '#adapters/dynamodb/claim.ts';
import {
  both,
  counterHasRoom,
  knownVersion,
  maxBefore,
  tiStillAsRead,
} from '#adapters/dynamodb/conditions.ts';
import { Items } from '#adapters/dynamodb/items.ts';
import { createTableInput } from '#adapters/dynamodb/table.ts';
import { UnknownItemError } from '#core/errors.ts';
import type { CounterKey } from '#core/model.ts';
import { ddbTest as test } from '../../support/ddb.ts';

const pool = (name: string): CounterKey => ({ kind: 'pool', pool: name });

function raise(table: string, name: string, amount: number, limit: number) {
  return raiseAction(table, { counter: pool(name), amount, limit }, 1);
}

async function used(ddb: DynamoDBClient, table: string, name: string): Promise<number> {
  const out = await ddb.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: `CTR#pool/${name}` }, sk: { S: 'CTR' } } }),
  );
  return Number(out.Item?.used?.N ?? 0);
}

describe('DynamoDB Local', () => {
  test('accepts the table definition the stack and the tests share', async ({ ddb, table }) => {
    // The fixture created it; a second create of the same name fails, proving it exists.
    await expect(ddb.send(new CreateTableCommand(createTableInput(table)))).rejects.toThrow();
  });

  test('raises a counter in a transaction exactly up to its limit', async ({ ddb, table }) => {
    for (let i = 0; i < 3; i += 1)
      await ddb.send(new TransactWriteItemsCommand({ TransactItems: [raise(table, 'a', 2, 6)] }));
    expect(await used(ddb, table, 'a')).toBe(6);
    await expect(
      ddb.send(new TransactWriteItemsCommand({ TransactItems: [raise(table, 'a', 1, 6)] })),
    ).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(await used(ddb, table, 'a')).toBe(6);
  });

  test('cancels the whole transaction when one condition fails, with a reason and the old item', async ({
    ddb,
    table,
  }) => {
    await ddb.send(new TransactWriteItemsCommand({ TransactItems: [raise(table, 'a', 6, 6)] }));
    const withOld = (action: ReturnType<typeof raise>) => ({
      Update: { ...action.Update!, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const },
    });
    const error = await ddb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [withOld(raise(table, 'b', 1, 5)), withOld(raise(table, 'a', 1, 6))],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const reasons = (error as TransactionCanceledException).CancellationReasons;
    expect(reasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(reasons?.[1]?.Item?.used).toEqual({ N: '6' });
    expect(await used(ddb, table, 'b')).toBe(0);
  });

  test('applies a task-instance condition only to the state and try that were read', async ({
    ddb,
    table,
  }) => {
    const key = { pk: { S: 'RUN#etl#r1' }, sk: { S: 'TI#extract#-1' } };
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key, v: { N: '1' }, state: { S: 'scheduled' }, tryNumber: { N: '1' } },
      }),
    );
    const claim = (tryNumber: number) =>
      ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET #state = :queued',
          ConditionExpression: both(knownVersion, tiStillAsRead),
          ExpressionAttributeNames: { '#state': 'state', '#tryNumber': 'tryNumber', '#v': 'v' },
          ExpressionAttributeValues: {
            ':queued': { S: 'queued' },
            ':v': { N: '1' },
            ':expectedState': { S: 'scheduled' },
            ':expectedTry': { N: String(tryNumber) },
          },
        }),
      );
    await expect(claim(2)).rejects.toThrow(/conditional request failed/i);
    await expect(claim(1)).resolves.toBeDefined();
    await expect(claim(1)).rejects.toThrow(/conditional request failed/i);
  });

  test('admits the first raise of a counter that does not exist whatever :max says, so impossible raises are never sent', async ({
    ddb,
    table,
  }) => {
    // limit 0, amount 1: max would be -1, but the item is absent, so the condition holds.
    const action = raise(table, 'zero', 1, 1);
    action.Update!.ExpressionAttributeValues![':max'] = { N: '-1' };
    await ddb.send(new TransactWriteItemsCommand({ TransactItems: [action] }));
    expect(await used(ddb, table, 'zero')).toBe(1);
    expect(maxBefore(0, 1)).toBeNull();
    expect(() => raise(table, 'zero', 1, 0)).toThrow(/can never fit/);
  });

  test('rejects arithmetic in a condition, which is why limits are computed in code', async ({
    ddb,
    table,
  }) => {
    const attempt = ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'CTR#pool/c' }, sk: { S: 'CTR' } },
        UpdateExpression: 'ADD #used :n',
        ConditionExpression: '#used + :n <= :limit',
        ExpressionAttributeNames: { '#used': 'used' },
        ExpressionAttributeValues: { ':n': { N: '1' }, ':limit': { N: '5' } },
      }),
    );
    await expect(attempt).rejects.toThrow(/Syntax error|Invalid ConditionExpression/i);
    expect(counterHasRoom).not.toMatch(/[+-]/);
  });

  test('never replaces or updates an item written by another schema version, and says whose key it is', async ({
    ddb,
    table,
  }) => {
    const items = new Items(ddb, table);
    const key = { pk: 'POOL#gpu', sk: 'POOL' };
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: key.pk }, sk: { S: key.sk }, v: { N: '2' }, type: { S: 'pool' }, data: { S: '{}' } },
      }),
    );
    const put = items.put({ pk: { S: key.pk }, sk: { S: key.sk }, v: { N: '1' }, type: { S: 'pool' } });
    await expect(put).rejects.toThrow(UnknownItemError);
    await expect(items.update(key, 'SET #x = :x', { values: { ':x': { S: 'y' } } })).rejects.toThrow(
      /POOL#gpu/,
    );
    const stored = await items.get(key);
    expect(stored?.v).toEqual({ N: '2' });
    expect(stored?.x).toBeUndefined();
  });
});
