/**
 * `ddbTest`: vitest fixtures on the DynamoDB Local started by test/setup/dynamodb.global-setup.ts.
 * The client is made once per file; `table` is a fresh table per test, with a unique name, created
 * from the one table definition and deleted after the test whatever happened; `store` is the
 * DynamoDB state store on it.
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject, test } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { createTable } from '#adapters/dynamodb/table.ts';

/** The emulator accepts any credentials; fixed fake ones keep a local run from needing an AWS profile. */
const FAKE_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A client of the test run's DynamoDB Local; a test that makes its own must destroy it. */
function localDdbClient(): DynamoDBClient {
  const endpoint = inject('ddbEndpoint');
  // Without an endpoint the client would reach real AWS with whatever credentials are around.
  if (!endpoint) throw new Error('no DynamoDB Local: add test/setup/dynamodb.global-setup.ts to globalSetup');
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: FAKE_CREDENTIALS, maxAttempts: 3 });
}

function uniqueTableName(prefix = 'test'): string {
  return `${prefix}_${process.pid}_${randomBytes(5).toString('hex')}`;
}

/** A fresh table on `client`, deleted by the returned function. */
async function freshTable(
  client: DynamoDBClient,
  prefix?: string,
): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = uniqueTableName(prefix);
  await createTable(client, name);
  return { name, drop: () => client.send(new DeleteTableCommand({ TableName: name })).then(() => undefined) };
}

const ddbTest = test
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads fixture dependencies from a destructuring pattern.
  .extend('ddb', { scope: 'file' }, async ({}, { onCleanup }): Promise<DynamoDBClient> => {
    const client = localDdbClient();
    onCleanup(() => client.destroy());
    return client;
  })
  .extend('table', async ({ ddb }, { onCleanup }): Promise<string> => {
    const { name, drop } = await freshTable(ddb);
    onCleanup(drop);
    return name;
  })
  .extend('store', async ({ ddb, table }): Promise<DynamoDbStateStore> => new DynamoDbStateStore(ddb, table));

export { ddbTest, freshTable, localDdbClient, uniqueTableName };
