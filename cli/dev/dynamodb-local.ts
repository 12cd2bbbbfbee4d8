/** DynamoDB Local lives in scripts/ (project tooling); re-exported here for the CLI and the benchmarks. */
export {
  type DynamoDbLocal,
  EmulatorError,
  ensureDynamoDbLocalJar,
  startDynamoDbLocal,
} from '../../scripts/dynamodb-local.ts';
