/**
 * Starts one DynamoDB Local (in memory, on a free port) for the whole test run and hands its endpoint
 * to the tests as `inject('ddbEndpoint')`. Tests create their own tables (test/support/ddb.ts).
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../scripts/dynamodb-local.ts';

export default async function setup(project: TestProject) {
  const ddb = await startDynamoDbLocal({ inMemory: true });
  project.provide('ddbEndpoint', ddb.endpoint);
  return async () => {
    await ddb.stop();
  };
}
