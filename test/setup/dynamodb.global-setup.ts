/** Starts one DynamoDB Local for the whole test run and hands its endpoint to the tests. */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../cli/dev/dynamodb-local.ts';

export default async function setup(project: TestProject) {
  const ddb = await startDynamoDbLocal();
  project.provide('ddbEndpoint', ddb.endpoint);
  return async () => {
    await ddb.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    ddbEndpoint: string;
  }
}
