import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { createTableInput } from '#adapters/dynamodb/table.ts';
import { describeStateStore } from './state-store.contract.ts';

const client = new DynamoDBClient({
  endpoint: inject('ddbEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
let n = 0;

describeStateStore('DynamoDB Local', async () => {
  // A fresh table per test, deleted afterwards.
  const table = `contract_${process.pid}_${Date.now()}_${n++}`;
  await client.send(new CreateTableCommand(createTableInput(table)));
  return {
    store: new DynamoDbStateStore(client, table),
    cleanup: async () => {
      await client.send(new DeleteTableCommand({ TableName: table }));
    },
  };
});
