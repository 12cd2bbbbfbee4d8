/**
 * The `pools` prop as a custom resource: its handler (handler.ts, bundled like the functions)
 * creates absent pools and applies changed sizes at each deployment, through the same service
 * calls as the API (shared/services/pools.ts).
 */
import { CustomResource, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { EnvKey, FunctionDefinition } from '../../shared/resources.ts';
import { grantTable } from '../access.ts';
import { createFunction } from '../functions.ts';
import { acknowledgeCdkHandler } from '../nag.ts';

/** The handler as a function definition (deployment-time only, so not in shared/resources.ts). */
const POOLS_FUNCTION: FunctionDefinition = {
  entry: 'infra/pools/handler.ts',
  timeoutSeconds: 60,
  memoryMiB: 512,
  env: ['tableName', 'schedulerEventsQueueUrl', 'settings', 'counterShards'],
  uses: {
    table: 'readWrite',
    queues: ['schedulerEvents'],
    bucket: 'none',
    schedules: false,
    ecs: false,
    notifications: false,
  },
};

interface UpdraftPoolsProps {
  pools: Record<string, number>;
  table: ITable;
  schedulerEvents: IQueue;
  env: Partial<Record<EnvKey, string>>;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

class UpdraftPools extends Construct {
  readonly handler: NodejsFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: UpdraftPoolsProps) {
    super(scope, id);
    this.handler = createFunction(this, 'Handler', POOLS_FUNCTION, {
      env: props.env,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    grantTable(this.handler, props.table, 'readWrite');
    props.schedulerEvents.grantSendMessages(this.handler);
    const provider = new Provider(this, 'Provider', { onEventHandler: this.handler });
    acknowledgeCdkHandler(provider, 'calls the pools handler for CloudFormation');
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::UpdraftPools',
      properties: { Pools: props.pools },
    });
  }
}

export { POOLS_FUNCTION, UpdraftPools };
