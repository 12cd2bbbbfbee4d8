/** Backfill semantics on the DynamoDB store, on DynamoDB Local: a fresh table per test. */
import { afterAll } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { freshTable, localDdbClient } from '../support/ddb.ts';
import { describeBackfills } from './backfill.contract.ts';

const client = localDdbClient();
afterAll(() => client.destroy());

describeBackfills('DynamoDB Local', async () => {
  const { name, drop } = await freshTable(client, 'backfill');
  return { store: new DynamoDbStateStore(client, name, { reconcileSettleMs: 0 }), cleanup: drop };
});
