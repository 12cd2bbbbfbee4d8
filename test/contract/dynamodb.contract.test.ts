/** The state-store contract on the DynamoDB store, on DynamoDB Local: a fresh table per test. */
import { afterAll } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { freshTable, localDdbClient } from '../support/ddb.ts';
import { describeStateStore } from './state-store.contract.ts';

const client = localDdbClient();
afterAll(() => client.destroy());

describeStateStore('DynamoDB Local', async () => {
  const { name, drop } = await freshTable(client, 'contract');
  return { store: new DynamoDbStateStore(client, name, { reconcileSettleMs: 0 }), cleanup: drop };
});

// The same contract with hot counters split in shards: every answer must be the same.
describeStateStore('DynamoDB Local with 3 counter shards', async () => {
  const { name, drop } = await freshTable(client, 'contract');
  return {
    store: new DynamoDbStateStore(client, name, { reconcileSettleMs: 0, counterShards: 3 }),
    cleanup: drop,
  };
});
