/**
 * THE definition of Updraft's one DynamoDB table, as plain data: the tests, `updraft dev` and the CDK
 * stack all create it from here, so they cannot drift. Design and access patterns: docs/state-store.md.
 */
import {
  CreateTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  /** What the pass that reads the index needs; KEYS_ONLY where a follow-up read is cheaper than copies. */
  projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableDefinition {
  partitionKey: string;
  sortKey: string;
  /** Every index is sparse: its key attributes exist only while the item is in the state it lists. */
  globalSecondaryIndexes: IndexDefinition[];
  /** Epoch seconds after which finished history may be deleted. */
  timeToLiveAttribute: string;
}

const TABLE: TableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  globalSecondaryIndexes: [
    /**
     * Scheduled task instances per pool in claim order (claimable work only); the same index holds,
     * under other partition keys, the instances parked while a DAG or task limit blocks them. ALL:
     * a claim pass reads its candidates from the index alone, and a scheduled instance is rarely
     * written until it is claimed (its wait reason only when the reason's kind changes).
     */
    { name: 'claim', partitionKey: 'claimPk', sortKey: 'claimSk', projection: 'ALL' },
    /**
     * Queued and running task instances (slot holders), for the sweep, the pools page and the
     * reconciler, which re-read them by key; and (`PARKING`) the counters with work parked on them.
     * KEYS_ONLY: a start, a heartbeat or a counter change does not rewrite an index entry.
     */
    { name: 'holding', partitionKey: 'holdPk', sortKey: 'holdSk', projection: 'KEYS_ONLY' },
    /**
     * up_for_retry / up_for_reschedule task instances by due time; and (`CTRS`) the counters in use,
     * for the reconciler. KEYS_ONLY: every claim and try end changes a counter, never its keys.
     */
    { name: 'waits', partitionKey: 'waitPk', sortKey: 'waitSk', projection: 'KEYS_ONLY' },
    /** Queued and running runs (the scheduler's working set), DAGs whose next run is due, pools, import errors. */
    { name: 'active', partitionKey: 'activePk', sortKey: 'activeSk', projection: 'ALL' },
    /** Runs of a DAG by logical date (newest first when read backwards), backfills of a DAG. */
    { name: 'byDag', partitionKey: 'dagPk', sortKey: 'dagSk', projection: 'ALL' },
  ],
  timeToLiveAttribute: 'expiresAt',
};

/** Every attribute that is a key of the table or an index (all strings). */
function keyAttributes(table: TableDefinition = TABLE): string[] {
  const names = new Set([table.partitionKey, table.sortKey]);
  for (const index of table.globalSecondaryIndexes) {
    names.add(index.partitionKey);
    names.add(index.sortKey);
  }
  return [...names];
}

/** The CreateTable request for the definition: on-demand, every key a string, every index sparse. */
function createTableInput(tableName: string, table: TableDefinition = TABLE) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: keyAttributes(table).map((name) => ({
      AttributeName: name,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: table.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: table.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: index.projection },
    })),
  };
}

/** Creates the table, waits until it is active, and turns on expiry of finished history. */
async function createTable(client: DynamoDBClient, tableName: string, table: TableDefinition = TABLE) {
  await client.send(new CreateTableCommand(createTableInput(tableName, table)));
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: table.timeToLiveAttribute, Enabled: true },
    }),
  );
}

export { createTable, createTableInput, keyAttributes, TABLE };
