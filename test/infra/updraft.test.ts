/**
 * The `Updraft` construct synthesized offline with its defaults: every resource it creates, the
 * functions' environment against their own config parsers, each role's scope, cdk-nag, and the
 * table and queues against shared/resources.ts (the local stack's source), so the two cannot drift.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type CfnElement, Duration, type Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster } from 'aws-cdk-lib/aws-ecs';
import { AccountRootPrincipal, type Policy, Role } from 'aws-cdk-lib/aws-iam';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig as apiConfig } from '../../functions/api/config.ts';
import { loadConfig as dagProcessorConfig } from '../../functions/dag-processor/config.ts';
import { loadConfig as schedulerConfig } from '../../functions/scheduler/config.ts';
import { loadConfig as taskEventsConfig } from '../../functions/task-events/config.ts';
import { loadConfig as workerConfig } from '../../functions/worker/config.ts';
import { BUCKET_ACCESS, TABLE_READ, TABLE_WRITE } from '../../infra/access.ts';
import { HEALTH_PATH } from '../../infra/api.ts';
import { type ApiAuth, UpdraftPropsError } from '../../infra/index.ts';
import { DRIFT_REPAIRED } from '../../infra/monitoring.ts';
import { Updraft } from '../../infra/updraft.ts';
import { createTableInput } from '../../shared/adapters/dynamodb/table.ts';
import { encode } from '../../shared/messages.ts';
import {
  API_FUNCTION,
  BUCKET,
  ENV,
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionDefinition,
  type FunctionName,
  QUEUES,
  type QueueId,
  RULES,
  SCHEDULES,
  TABLE,
} from '../../shared/resources.ts';
import { type Synthesized, synth } from './synth.ts';
import {
  type CfnResource,
  environmentOf,
  only,
  resources,
  roleStatements,
  type Statement,
  text,
} from './template.ts';

type Name = FunctionName | 'api';
const NAMES: Name[] = [...FUNCTION_NAMES, 'api'];
const definition = (name: Name): FunctionDefinition => (name === 'api' ? API_FUNCTION : FUNCTIONS[name]);

const CONFIGS: Record<Name, (env: Record<string, string>) => unknown> = {
  scheduler: schedulerConfig,
  worker: workerConfig,
  'dag-processor': dagProcessorConfig,
  'task-events': taskEventsConfig,
  api: apiConfig,
};

let s: Synthesized;
const logicalId = (element: { node: { defaultChild?: unknown } }) =>
  s.stack.resolve(s.stack.getLogicalId(element.node.defaultChild as CfnElement)) as string;
const fnId = (name: Name) => logicalId(s.updraft.functions[name]);
const fnResource = (name: Name) => resources(s.template, 'AWS::Lambda::Function')[fnId(name)]!;
const statements = (name: Name) => roleStatements(s.template, fnId(name));
const allows = (name: Name, action: string) =>
  statements(name).filter((st) => st.Effect === 'Allow' && st.Action.includes(action));
const resourcesOf = (sts: Statement[]) => sts.flatMap((st) => st.Resource.map(text));
/** PassRole statements of a function that pass roles to `service` (their `iam:PassedToService`). */
const passesTo = (name: Name, service: string) =>
  allows(name, 'iam:PassRole').filter(
    (st) =>
      ((st.Condition as { StringEquals?: Record<string, string> } | undefined)?.StringEquals?.[
        'iam:PassedToService'
      ] ?? null) === service,
  );

// Bundling five functions and CDK's CloudFormation validation engine take most of a minute on a loaded machine.
const SYNTH_TIMEOUT_MS = 420_000;

beforeAll(() => {
  s = synth();
}, SYNTH_TIMEOUT_MS);

describe('Updraft construct, synthesized offline', () => {
  it('leaves no cdk-nag AwsSolutions finding unacknowledged', () => {
    expect(s.findings).toEqual([]);
  });

  describe('the table, from shared/resources.ts', () => {
    it('has the keys, attributes and indexes the local stack creates (no drift)', () => {
      const [, table] = only(s.template, 'AWS::DynamoDB::Table');
      const local = createTableInput('local', TABLE);
      const byName = (a: { AttributeName: string }, b: { AttributeName: string }) =>
        a.AttributeName.localeCompare(b.AttributeName);
      expect(table.Properties.KeySchema).toEqual(local.KeySchema);
      expect(
        [...(table.Properties.AttributeDefinitions as { AttributeName: string }[])].sort(byName),
      ).toEqual([...local.AttributeDefinitions].sort(byName));
      expect(table.Properties.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
      expect(table.Properties.BillingMode).toBe(local.BillingMode);
    });

    it('is on demand with point-in-time recovery, expiry of history, encryption and deletion protection', () => {
      s.template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: TABLE.timeToLiveAttribute, Enabled: true },
          SSESpecification: { SSEEnabled: true },
          DeletionProtectionEnabled: true,
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('the queues, from shared/resources.ts', () => {
    it.each(Object.keys(QUEUES) as QueueId[])(
      '%s has its visibility, retention and redrive to its DLQ',
      (id) => {
        const q = QUEUES[id];
        const queues = resources(s.template, 'AWS::SQS::Queue');
        const main = queues[logicalId(s.updraft.queues[id].queue)]!;
        const dlqId = logicalId(s.updraft.queues[id].dlq);
        expect(main.Properties).toMatchObject({
          VisibilityTimeout: q.visibilityTimeoutSeconds,
          MessageRetentionPeriod: q.retentionSeconds,
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
            maxReceiveCount: q.maxReceiveCount,
          },
          SqsManagedSseEnabled: true,
        });
        expect(queues[dlqId]!.Properties).toMatchObject({
          MessageRetentionPeriod: q.dlq.retentionSeconds,
          SqsManagedSseEnabled: true,
        });
      },
    );

    it('hides a dispatch for 6 × the worker timeout', () => {
      const worker = fnResource('worker');
      const dispatch = resources(s.template, 'AWS::SQS::Queue')[logicalId(s.updraft.queues.dispatch.queue)]!;
      expect(dispatch.Properties.VisibilityTimeout).toBe(6 * (worker.Properties.Timeout as number));
      expect(worker.Properties.Timeout).toBe(900);
    });

    it('refuses anything but TLS on every queue', () => {
      const policies = Object.values(resources(s.template, 'AWS::SQS::QueuePolicy'));
      expect(policies).toHaveLength(4);
      for (const policy of policies) {
        expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      }
    });

    it.each(Object.keys(QUEUES) as QueueId[])(
      '%s feeds its consumer in batches with partial batch responses and bounded concurrency',
      (id) => {
        const q = QUEUES[id];
        s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: { 'Fn::GetAtt': [logicalId(s.updraft.queues[id].queue), 'Arn'] },
          FunctionName: { Ref: fnId(q.consumer) },
          BatchSize: q.batchSize,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: q.maxConcurrency },
        });
      },
    );
  });

  describe('the bucket', () => {
    it('is private, encrypted, TLS only, and expires logs and results', () => {
      const bucketId = logicalId(s.updraft.bucket as unknown as { node: { defaultChild: unknown } });
      const bucket = resources(s.template, 'AWS::S3::Bucket')[bucketId]!;
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      });
      const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      for (const prefix of [BUCKET.prefixes.logs, BUCKET.prefixes.results]) {
        expect(rules).toContainEqual(
          expect.objectContaining({
            Prefix: prefix,
            ExpirationInDays: BUCKET.logRetentionDays,
            Status: 'Enabled',
          }),
        );
      }
      s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('notifies the dag-processor of DAG files created and removed under dags/', () => {
      const [, notifications] = only(s.template, 'Custom::S3BucketNotifications');
      const configs = (
        notifications.Properties.NotificationConfiguration as {
          LambdaFunctionConfigurations: { Events: string[]; Filter: unknown; LambdaFunctionArn: unknown }[];
        }
      ).LambdaFunctionConfigurations;
      expect(configs.flatMap((c) => c.Events).sort()).toEqual([...BUCKET.dagEvents].sort());
      for (const c of configs) {
        expect(c.Filter).toEqual({ Key: { FilterRules: [{ Name: 'prefix', Value: BUCKET.prefixes.dags }] } });
        expect(c.LambdaFunctionArn).toEqual({ 'Fn::GetAtt': [fnId('dag-processor'), 'Arn'] });
      }
    });
  });

  describe('the functions', () => {
    it.each(NAMES)('%s runs on Node 22, arm64, with its timeout, memory and tracing', (name) => {
      const def = definition(name);
      expect(fnResource(name).Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Timeout: def.timeoutSeconds,
        MemorySize: def.memoryMiB,
        TracingConfig: { Mode: 'Active' },
      });
    });

    it.each(NAMES)('%s gets every variable resources.ts lists, and its own config accepts them', (name) => {
      const env = environmentOf(fnResource(name));
      for (const key of definition(name).env) expect(env).toHaveProperty(ENV[key]);
      expect(() => CONFIGS[name]({ ...env, AWS_REGION: 'eu-west-1' })).not.toThrow();
    });

    it('passes the parallelism to every function as settings', () => {
      for (const name of NAMES) {
        expect(JSON.parse(environmentOf(fnResource(name))[ENV.settings]!)).toEqual({ parallelism: 32 });
      }
    });

    it.each(NAMES)('%s is an ESM bundle that loads on Node and exports its handler', async (name) => {
      const code = fnResource(name).Properties.Code as { S3Key: string };
      const dir = s.assetDir(code.S3Key.replace(/\.zip$/, ''));
      const bundle = path.join(dir, 'index.mjs');
      expect(existsSync(bundle)).toBe(true);
      expect(readFileSync(bundle, 'utf8')).not.toMatch(
        /from\s*["']@aws-sdk\/client-dynamodb["'][\s\S]*class DynamoDBClient/,
      );
      // The api builds its dependencies at import (no AWS call): give it the environment it gets.
      const saved = { ...process.env };
      Object.assign(process.env, environmentOf(fnResource(name)), { AWS_REGION: 'eu-west-1' });
      try {
        const module = (await import(bundle)) as { handler?: unknown };
        expect(typeof module.handler).toBe('function');
      } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
      }
    });

    it('ships esbuild-wasm beside the dag-processor bundle (installed, not bundled)', () => {
      const code = fnResource('dag-processor').Properties.Code as { S3Key: string };
      const dir = s.assetDir(code.S3Key.replace(/\.zip$/, ''));
      expect(existsSync(path.join(dir, 'node_modules', 'esbuild-wasm', 'esbuild.wasm'))).toBe(true);
    });
  });

  describe('EventBridge Scheduler', () => {
    it('runs the sweep every minute through the scheduler-events queue, with retries and a DLQ', () => {
      const events = s.updraft.queues.schedulerEvents;
      s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: `rate(${SCHEDULES.sweep.rateMinutes} minute)`,
        GroupName: s.updraft.scheduleGroup.scheduleGroupName,
        Target: {
          Arn: { 'Fn::GetAtt': [logicalId(events.queue), 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [logicalId(s.updraft.scheduleRole), 'Arn'] },
          Input: encode('schedule-wakeup', SCHEDULES.sweep.message),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(events.dlq), 'Arn'] } },
          RetryPolicy: {
            MaximumRetryAttempts: SCHEDULES.retry.maximumRetryAttempts,
            MaximumEventAgeInSeconds: SCHEDULES.retry.maximumEventAgeSeconds,
          },
        },
      });
    });

    it('gives the schedules role sends to the scheduler-events queue and its DLQ only', () => {
      const roleId = logicalId(s.updraft.scheduleRole);
      const policies = Object.values(resources(s.template, 'AWS::IAM::Policy')).filter((p) =>
        (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
      );
      const sts = policies.flatMap(
        (p) =>
          (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
            .Statement,
      );
      const events = s.updraft.queues.schedulerEvents;
      expect(sts.flatMap((st) => [st.Action].flat()).every((a) => a === 'sqs:SendMessage')).toBe(true);
      expect(new Set(sts.flatMap((st) => [st.Resource].flat()).map(text))).toEqual(
        new Set([`<${logicalId(events.queue)}.Arn>`, `<${logicalId(events.dlq)}.Arn>`]),
      );
      s.template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })],
        },
      });
    });

    it.each(['scheduler', 'dag-processor', 'worker'] as const)(
      '%s may create, update and delete schedules in the group, and pass the schedules role only',
      (name) => {
        const manage = allows(name, 'scheduler:CreateSchedule');
        expect(manage).toHaveLength(1);
        expect(manage[0]!.Action.sort()).toEqual(
          ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:UpdateSchedule'].sort(),
        );
        // The region is known, so ARNs carry the partition as a literal (flag enablePartitionLiterals).
        expect(resourcesOf(manage)).toEqual([
          `arn:aws:scheduler:eu-west-1:123456789012:schedule/${s.updraft.scheduleGroup.scheduleGroupName}/*`,
        ]);
        const pass = passesTo(name, 'scheduler.amazonaws.com');
        expect(resourcesOf(pass)).toEqual([`<${logicalId(s.updraft.scheduleRole)}.Arn>`]);
        expect(pass[0]!.Condition).toEqual({
          StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
        });
      },
    );

    it('points the functions at the group, the role, the queue as target and its DLQ', () => {
      const env = environmentOf(fnResource('scheduler'));
      const events = s.updraft.queues.schedulerEvents;
      expect(env[ENV.scheduleGroup]).toBe(s.updraft.scheduleGroup.scheduleGroupName);
      expect(env[ENV.scheduleTargetArn]).toBe(`<${logicalId(events.queue)}.Arn>`);
      expect(env[ENV.scheduleRoleArn]).toBe(`<${logicalId(s.updraft.scheduleRole)}.Arn>`);
      expect(env[ENV.scheduleDlqArn]).toBe(`<${logicalId(events.dlq)}.Arn>`);
    });
  });

  describe('Fargate', () => {
    it('creates a cluster in a VPC without NAT gateways, and an arm64 Fargate task definition', () => {
      s.template.resourceCountIs('AWS::ECS::Cluster', 1);
      s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
      s.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: '256',
        Memory: '512',
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      });
    });

    it('routes stopped Updraft tasks of the cluster to task-events, with a DLQ', () => {
      const rule = RULES.ecsTaskStateChange;
      const fargate = s.updraft.fargate!;
      s.template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: rule.eventPattern.source,
          'detail-type': rule.eventPattern['detail-type'],
          detail: {
            clusterArn: [
              {
                'Fn::GetAtt': [
                  logicalId(fargate.cluster as unknown as { node: { defaultChild: unknown } }),
                  'Arn',
                ],
              },
            ],
            lastStatus: rule.eventPattern.detail.lastStatus,
            startedBy: rule.eventPattern.detail.startedBy,
          },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [fnId('task-events'), 'Arn'] },
            DeadLetterConfig: {
              Arn: { 'Fn::GetAtt': [logicalId(s.updraft.queues.schedulerEvents.dlq), 'Arn'] },
            },
          }),
        ],
      });
    });

    it('gives the worker RunTask on its family and siblings on this cluster, and PassRole of the task roles only', () => {
      const fargate = s.updraft.fargate!;
      const run = allows('worker', 'ecs:RunTask');
      const family = fargate.taskDefinition.family;
      expect(resourcesOf(run).sort()).toEqual(
        [
          `arn:aws:ecs:eu-west-1:123456789012:task-definition/${family}:*`,
          `arn:aws:ecs:eu-west-1:123456789012:task-definition/${family}-*:*`,
        ].sort(),
      );
      expect(
        text((run[0]!.Condition as { ArnEquals: Record<string, unknown> }).ArnEquals['ecs:cluster']),
      ).toMatch(/^<.*Cluster.*\.Arn>$/);
      const pass = passesTo('worker', 'ecs-tasks.amazonaws.com');
      expect(resourcesOf(pass).sort()).toEqual(
        [
          `<${logicalId(fargate.taskDefinition.taskRole as unknown as { node: { defaultChild: unknown } })}.Arn>`,
          `<${logicalId(fargate.taskDefinition.executionRole as unknown as { node: { defaultChild: unknown } })}.Arn>`,
        ].sort(),
      );
      const env = environmentOf(fnResource('worker'));
      // Public subnets without a NAT gateway: tasks pull their image through a public IP.
      expect(env[ENV.ecsAssignPublicIp]).toBe('ENABLED');
      const ecs = (
        workerConfig({ ...env, AWS_REGION: 'eu-west-1' }) as { ecs: Record<string, unknown> | null }
      ).ecs;
      expect(ecs).toMatchObject({ containerName: 'task', assignPublicIp: true });
      expect((ecs!.subnets as string[]).length).toBe(2);
    });
  });

  describe('least privilege', () => {
    /** The only actions IAM offers on no narrower resource than `*`. */
    const STAR_ONLY = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'ecs:DescribeTaskDefinition',
      'ecs:RegisterTaskDefinition',
    ]);

    it.each(NAMES)('%s uses `*` only for actions that have no resource-level permissions', (name) => {
      for (const st of statements(name)) {
        if (st.Resource.includes('*')) expect(st.Action.filter((a) => !STAR_ONLY.has(a))).toEqual([]);
      }
    });

    it.each(NAMES)('%s reaches the table and each index by its ARN, with the store’s calls only', (name) => {
      const tableId = logicalId(s.updraft.table);
      const dynamo = statements(name).filter((st) => st.Action.some((a) => a.startsWith('dynamodb:')));
      const onTable = dynamo.filter((st) => st.Resource.map(text).includes(`<${tableId}.Arn>`));
      expect(onTable.flatMap((st) => st.Action).sort()).toEqual([...TABLE_READ, ...TABLE_WRITE].sort());
      const onIndexes = dynamo.filter((st) => !onTable.includes(st));
      expect(onIndexes.flatMap((st) => st.Action)).toEqual(['dynamodb:Query']);
      expect(resourcesOf(onIndexes).sort()).toEqual(
        TABLE.globalSecondaryIndexes.map((i) => `<${tableId}.Arn>/index/${i.name}`).sort(),
      );
    });

    it.each(NAMES)('%s sends only to the queues resources.ts says it uses', (name) => {
      const sent = resourcesOf(allows(name, 'sqs:SendMessage')).sort();
      const expected = definition(name).uses.queues.map(
        (q) => `<${logicalId(s.updraft.queues[q].queue)}.Arn>`,
      );
      expect(sent).toEqual(expected.sort());
    });

    it.each(NAMES)('%s reads and writes only the bucket prefixes its adapters touch', (name) => {
      const bucketId = logicalId(s.updraft.bucket as unknown as { node: { defaultChild: unknown } });
      const access = BUCKET_ACCESS[name];
      const objects = (prefixes: readonly (keyof typeof BUCKET.prefixes)[]) =>
        prefixes.map((p) => `<${bucketId}.Arn>/${BUCKET.prefixes[p]}*`).sort();
      expect(resourcesOf(allows(name, 's3:GetObject')).sort()).toEqual(objects(access.get));
      expect(resourcesOf(allows(name, 's3:PutObject')).sort()).toEqual(objects(access.put));
      const s3Actions = statements(name)
        .flatMap((st) => st.Action)
        .filter((a) => a.startsWith('s3:'));
      expect(new Set(s3Actions)).toEqual(
        new Set([
          ...(access.get.length ? ['s3:GetObject'] : []),
          ...(access.put.length ? ['s3:PutObject'] : []),
          ...(access.list.length ? ['s3:ListBucket'] : []),
        ]),
      );
      if (definition(name).uses.bucket === 'read') expect(access.put).toEqual([]);
      if (definition(name).uses.bucket === 'none') expect(access).toEqual({ get: [], put: [], list: [] });
    });

    it('lets only the worker touch ECS, and publish notifications only where resources.ts says', () => {
      for (const name of NAMES) {
        const ecs = statements(name).flatMap((st) => st.Action.filter((a) => a.startsWith('ecs:')));
        expect(ecs.length > 0).toBe(definition(name).uses.ecs);
        expect(allows(name, 'sns:Publish').length > 0).toBe(definition(name).uses.notifications);
      }
    });
  });

  describe('the HTTP API', () => {
    const routes = () =>
      Object.values(resources(s.template, 'AWS::ApiGatewayV2::Route')).map(
        (r) => r.Properties as Record<string, unknown>,
      );

    it('authenticates every route under /api/ with IAM, except the health check', () => {
      const byKey = new Map(routes().map((r) => [r.RouteKey as string, r]));
      expect(byKey.get(`GET ${HEALTH_PATH}`)?.AuthorizationType).toBe('NONE');
      for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
        expect(byKey.get(`${method} /api/{proxy+}`)?.AuthorizationType).toBe('AWS_IAM');
      }
      // No route answers OPTIONS or any path outside /api/: preflights are API Gateway's, the rest 404.
      expect([...byKey.keys()].sort()).toEqual(
        [
          `GET ${HEALTH_PATH}`,
          ...['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].map((m) => `${m} /api/{proxy+}`),
        ].sort(),
      );
    });

    it('hands requests to the api function (payload v2), logs access and throttles', () => {
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: { 'Fn::GetAtt': [fnId('api'), 'Arn'] },
        PayloadFormatVersion: '2.0',
      });
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
        DefaultRouteSettings: {
          ThrottlingRateLimit: Match.anyValue(),
          ThrottlingBurstLimit: Match.anyValue(),
        },
      });
    });

    it('lets the console’s origin call it with a bearer token (CORS)', () => {
      const [, api] = only(s.template, 'AWS::ApiGatewayV2::Api');
      const cors = api.Properties.CorsConfiguration as Record<string, unknown[]>;
      expect(cors.AllowOrigins!.map(text)).toEqual([
        `https://<${logicalId(s.updraft.console!.distribution)}.DomainName>`,
      ]);
      expect(cors.AllowHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    });

    it('grants execute-api:Invoke on the API’s routes to whom grantApiAccess names', () => {
      const stack = s.stack;
      const role = new Role(stack, 'Caller', { assumedBy: new AccountRootPrincipal() });
      s.updraft.grantApiAccess(role);
      const doc = stack.resolve((role.node.findChild('DefaultPolicy') as Policy).document);
      expect(doc.Statement).toHaveLength(1);
      expect(doc.Statement[0].Action).toBe('execute-api:Invoke');
      expect(text(doc.Statement[0].Resource)).toMatch(
        /:execute-api:eu-west-1:123456789012:<.*>\/\*\/\*\/api\/\*$/,
      );
    });
  });

  describe('the console', () => {
    it('serves a private bucket through CloudFront with origin access control, over HTTPS', () => {
      const site = s.updraft.console!;
      const bucketId = logicalId(site.bucket);
      expect(
        resources(s.template, 'AWS::S3::Bucket')[bucketId]!.Properties.PublicAccessBlockConfiguration,
      ).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      s.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
        OriginAccessControlConfig: {
          OriginAccessControlOriginType: 's3',
          SigningBehavior: 'always',
          SigningProtocol: 'sigv4',
        },
      });
      s.template.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({
          DefaultRootObject: 'index.html',
          DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
          Origins: [
            Match.objectLike({
              OriginAccessControlId: Match.anyValue(),
              S3OriginConfig: { OriginAccessIdentity: '' },
            }),
          ],
        }),
      });
      s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudfront.amazonaws.com' },
              Action: 's3:GetObject',
            }),
          ]),
        },
      });
    });

    it('uploads console/dist and a config.json naming the API and its auth mode', () => {
      const [, deployment] = only(s.template, 'Custom::CDKBucketDeployment');
      const keys = deployment.Properties.SourceObjectKeys as string[];
      expect(keys).toHaveLength(2);
      const configDir = keys
        .map((k) => s.assetDir(k.replace(/\.zip$/, '')))
        .find((d) => existsSync(path.join(d, 'config.json')))!;
      const config = JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')) as Record<
        string,
        string
      >;
      expect(config.authMode).toBe('IAM');
      // The API URL is known at deployment: a marker the deployment replaces.
      const markers = JSON.stringify(deployment.Properties.SourceMarkers);
      expect(markers).toContain(logicalId(s.updraft.api.httpApi));
      const distDir = keys.map((k) => s.assetDir(k.replace(/\.zip$/, ''))).find((d) => d !== configDir)!;
      expect(existsSync(path.join(distDir, 'index.html'))).toBe(true);
    });
  });

  describe('alarms and the dashboard', () => {
    const alarms = () =>
      Object.values(resources(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const topicRef = () => ({
      Ref: logicalId(s.updraft.alarmTopic as unknown as { node: { defaultChild: unknown } }),
    });

    it('alarms on a message in either dead-letter queue', () => {
      for (const id of Object.keys(QUEUES) as QueueId[]) {
        const dlq = { 'Fn::GetAtt': [logicalId(s.updraft.queues[id].dlq), 'QueueName'] };
        expect(alarms()).toContainEqual(
          expect.objectContaining({
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [{ Name: 'QueueName', Value: dlq }],
            Threshold: 1,
            AlarmActions: [topicRef()],
          }),
        );
      }
    });

    it.each(NAMES)('alarms on an error of %s', (name) => {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          MetricName: 'Errors',
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }],
          AlarmActions: [topicRef()],
        }),
      );
    });

    it('alarms on scheduler lag: scheduler events waiting longer than two sweeps', () => {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [
            {
              Name: 'QueueName',
              Value: { 'Fn::GetAtt': [logicalId(s.updraft.queues.schedulerEvents.queue), 'QueueName'] },
            },
          ],
          Threshold: 120,
          AlarmActions: [topicRef()],
        }),
      );
    });

    it('counts the reconciler’s slot counter repairs from the scheduler log, and alarms on one', () => {
      // The phrase the filter matches is the one the reconciler logs.
      expect(readFileSync('shared/services/reconcile.ts', 'utf8')).toContain(`'${DRIFT_REPAIRED}`);
      s.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: {
          Ref: logicalId(
            s.updraft.functions.scheduler.logGroup as unknown as { node: { defaultChild: unknown } },
          ),
        },
        FilterPattern: `"${DRIFT_REPAIRED}"`,
        MetricTransformations: [
          Match.objectLike({ MetricName: 'SlotCounterDriftRepairs', MetricValue: '1' }),
        ],
      });
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          MetricName: 'SlotCounterDriftRepairs',
          Threshold: 1,
          AlarmActions: [topicRef()],
        }),
      );
    });

    it('draws a dashboard of queues, functions and repairs', () => {
      const [, dashboard] = only(s.template, 'AWS::CloudWatch::Dashboard');
      const body = text(dashboard.Properties.DashboardBody);
      for (const title of [
        'Queue depth',
        'scheduler lag',
        'Dead letters',
        'Errors',
        'Slot counter repairs',
      ]) {
        expect(body).toContain(title);
      }
    });
  });

  describe('outputs', () => {
    it('names the API URL, the console URL and the bucket', () => {
      const outputs = Object.values(s.template.findOutputs('*')) as {
        Value: unknown;
        Description?: string;
      }[];
      const values = outputs.map((o) => text(o.Value));
      expect(values).toContainEqual(
        expect.stringMatching(/^https:\/\/<.*>\.execute-api\.eu-west-1\.<AWS::URLSuffix>\/$/),
      );
      expect(values).toContain(`https://<${logicalId(s.updraft.console!.distribution)}.DomainName>/`);
      expect(values).toContain(
        `<${logicalId(s.updraft.bucket as unknown as { node: { defaultChild: unknown } })}>`,
      );
    });
  });

  describe('what cdk.json’s recommended feature flags change', () => {
    it('synthesizes with every flag aws-cdk-lib recommends', () => {
      const recommended = JSON.parse(
        readFileSync(
          path.join(import.meta.dirname, '../../node_modules/aws-cdk-lib/recommended-feature-flags.json'),
          'utf8',
        ),
      ) as Record<string, unknown>;
      for (const [flag, value] of Object.entries(recommended))
        expect(s.app.node.tryGetContext(flag)).toEqual(value);
    });

    it('gives no function a KMS permission: the notifications topic is under the AWS managed key', () => {
      for (const name of NAMES)
        expect(
          statements(name)
            .flatMap((st) => st.Action)
            .filter((a) => a.startsWith('kms:')),
        ).toEqual([]);
    });

    it('lets S3 write server access logs through a bucket policy, not an ACL', () => {
      const buckets = Object.values(resources(s.template, 'AWS::S3::Bucket'));
      for (const b of buckets) expect(b.Properties.AccessControl).toBeUndefined();
      const policies = Object.values(resources(s.template, 'AWS::S3::BucketPolicy')).flatMap(
        (p) =>
          (p.Properties.PolicyDocument as { Statement: { Principal?: { Service?: string } }[] }).Statement,
      );
      expect(policies.some((st) => st.Principal?.Service === 'logging.s3.amazonaws.com')).toBe(true);
    });

    it('removes every rule of the created VPC’s default security group', () => {
      s.template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
    });
  });

  describe('props', () => {
    it('refuses a worker timeout beyond Lambda’s 15 minutes, naming the prop', () => {
      const stack = s.stack as Stack;
      expect(() => new Updraft(stack, 'TooLong', { worker: { timeout: Duration.minutes(20) } })).toThrow(
        UpdraftPropsError,
      );
      expect(() => new Updraft(stack, 'TooLong2', { worker: { timeout: Duration.minutes(20) } })).toThrow(
        /worker\.timeout/,
      );
    });

    it.each([
      {
        case: 'no runs at once',
        dagDefaults: { maxActiveRuns: 0 },
        error: 'dagDefaults.maxActiveRuns must be a whole number ≥ 1',
      },
      {
        case: 'a fraction of a task',
        dagDefaults: { maxActiveTasks: 1.5 },
        error: 'dagDefaults.maxActiveTasks must be a whole number',
      },
      {
        case: 'negative retries',
        dagDefaults: { retries: -1 },
        error: 'dagDefaults.retries must be a whole number ≥ 0',
      },
      {
        case: 'a zero execution timeout',
        dagDefaults: { executionTimeout: Duration.seconds(0) },
        error: 'dagDefaults.executionTimeout must be longer than 0',
      },
      {
        case: 'a misspelt field',
        dagDefaults: { maxActiveRun: 4 } as never,
        error: 'dagDefaults.maxActiveRun unknown option (did you mean maxActiveRuns?)',
      },
    ])(
      'refuses DAG defaults with $case at synth time, naming the field',
      ({ case: name, dagDefaults, error }) => {
        expect(() => new Updraft(s.stack as Stack, `Bad ${name}`, { dagDefaults })).toThrow(
          UpdraftPropsError,
        );
        expect(() => new Updraft(s.stack as Stack, `Bad ${name} 2`, { dagDefaults })).toThrow(error);
      },
    );
  });
});

describe('Updraft construct with an existing bucket, no Fargate, no console, JWT auth, a worker concurrency and no downstream pass in the worker', () => {
  let v: Synthesized;
  beforeAll(() => {
    const apiAuth: ApiAuth = { mode: 'JWT', issuer: 'https://issuer.example.com/', audience: ['updraft'] };
    v = synth(
      {
        fargate: false,
        console: false,
        apiAuth,
        counterShards: 4,
        pools: { warehouse: 8, default_pool: 64 },
        worker: { maxConcurrency: 20, memoryMiB: 2048, scheduleAfterTaskExecution: false },
        scheduler: { memoryMiB: 1024 },
        dagDefaults: {
          maxActiveRuns: 4,
          retries: 2,
          retryDelay: Duration.minutes(1),
          executionTimeout: Duration.hours(2),
        },
      },
      (stack) => ({
        dagBucket: Bucket.fromBucketName(stack, 'Existing', 'my-dags'),
      }),
    );
  }, SYNTH_TIMEOUT_MS);

  it('creates no bucket and no ECS resources, and grants on the existing bucket', () => {
    v.template.resourceCountIs('AWS::S3::Bucket', 0);
    v.template.resourceCountIs('AWS::ECS::Cluster', 0);
    v.template.resourceCountIs('AWS::EC2::VPC', 0);
    expect(v.findings).toEqual([]);
    const worker = Object.entries(resources(v.template, 'AWS::Lambda::Function')).find(([id]) =>
      id.includes('Worker'),
    )!;
    const env = environmentOf(worker[1] as CfnResource);
    expect(env[ENV.bucketName]).toBe('my-dags');
    expect(env[ENV.ecsCluster]).toBeUndefined();
    expect(JSON.parse(env[ENV.settings]!)).toMatchObject({
      parallelism: 32,
      executorCapacity: { lambda: 20, fargate: null },
      scheduleAfterTaskExecution: false,
    });
    expect(worker[1].Properties.MemorySize).toBe(2048);
    const scheduler = Object.entries(resources(v.template, 'AWS::Lambda::Function')).find(([id]) =>
      id.includes('Scheduler'),
    )!;
    expect(scheduler[1].Properties.MemorySize).toBe(1024);
    const puts = roleStatements(v.template, worker[0]).filter((st) => st.Action.includes('s3:PutObject'));
    expect(resourcesOf(puts).sort()).toEqual(
      ['arn:aws:s3:::my-dags/logs/*', 'arn:aws:s3:::my-dags/results/*'].sort(),
    );
  });

  it('runs as many worker invocations as the worker concurrency allows', () => {
    v.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: QUEUES.dispatch.batchSize,
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it('authenticates the API with the JWT issuer and audience, and hosts no console', () => {
    v.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example.com/', Audience: ['updraft'] },
    });
    const routes = Object.values(resources(v.template, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    for (const r of routes) {
      expect(r.AuthorizationType).toBe(r.RouteKey === `GET ${HEALTH_PATH}` ? 'NONE' : 'JWT');
    }
    v.template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    v.template.resourceCountIs('Custom::CDKBucketDeployment', 0);
    const [, api] = only(v.template, 'AWS::ApiGatewayV2::Api');
    expect(api.Properties.CorsConfiguration).toBeUndefined();
    const worker = Object.entries(resources(v.template, 'AWS::Lambda::Function')).find(([id]) =>
      id.includes('UpdraftApi'),
    )!;
    expect(environmentOf(worker[1] as CfnResource)[ENV.apiAuthMode]).toBe('JWT');
  });

  it('gives every function the same counter shard count, which their configs read', () => {
    const fns = Object.entries(resources(v.template, 'AWS::Lambda::Function')).filter(([id]) =>
      NAMES.some((n) =>
        id.startsWith(
          `Updraft${n
            .split('-')
            .map((p) => p[0]!.toUpperCase() + p.slice(1))
            .join('')}`,
        ),
      ),
    );
    expect(fns).toHaveLength(NAMES.length);
    for (const [, fn] of fns) expect(environmentOf(fn)[ENV.counterShards]).toBe('4');
    const env = (id: string) => ({
      ...environmentOf(fns.find(([fid]) => fid.startsWith(id))![1]),
      AWS_REGION: 'eu-west-1',
    });
    expect(workerConfig(env('UpdraftWorker')).counterShards).toBe(4);
    expect(apiConfig(env('UpdraftApi')).counterShards).toBe(4);
    expect(() => workerConfig({ ...env('UpdraftWorker'), [ENV.counterShards]: '0' })).toThrow(
      `${ENV.counterShards} must be a whole number ≥ 1`,
    );
    expect(() => apiConfig({ ...env('UpdraftApi'), [ENV.counterShards]: 'two' })).toThrow(
      `${ENV.counterShards} must be a whole number ≥ 1`,
    );
  });

  it('applies the pools of the props at deployment through a custom resource whose handler bundle loads', async () => {
    const [, pools] = only(v.template, 'Custom::UpdraftPools');
    expect(pools.Properties.Pools).toEqual({ warehouse: 8, default_pool: 64 });
    const handlerId = Object.keys(resources(v.template, 'AWS::Lambda::Function')).find((id) =>
      id.startsWith('UpdraftPoolsHandler'),
    )!;
    const sts = roleStatements(v.template, handlerId);
    expect(new Set(sts.flatMap((st) => st.Action).filter((a) => !a.startsWith('xray:')))).toEqual(
      new Set([
        ...TABLE_READ,
        ...TABLE_WRITE,
        'sqs:SendMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
      ]),
    );
    const fn = resources(v.template, 'AWS::Lambda::Function')[handlerId]!;
    const dir = v.assetDir((fn.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, ''));
    const module = (await import(path.join(dir, 'index.mjs'))) as { handler?: unknown };
    expect(typeof module.handler).toBe('function');
  });

  it('hands the DAG defaults to the dag-processor in its settings, which its config reads over Airflow’s', () => {
    const [, fn] = Object.entries(resources(v.template, 'AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('UpdraftDagProcessor'),
    )!;
    const env = environmentOf(fn);
    expect(JSON.parse(env[ENV.settings]!).dagDefaults).toEqual({
      maxActiveRuns: 4,
      retries: 2,
      retryDelayMs: 60_000,
      executionTimeoutMs: 7_200_000,
    });
    expect(dagProcessorConfig({ ...env, AWS_REGION: 'eu-west-1' }).settings.dagDefaults).toEqual({
      maxActiveRuns: 4,
      maxActiveTasks: 16,
      maxConsecutiveFailedDagRuns: 0,
      retries: 2,
      retryDelayMs: 60_000,
      executionTimeoutMs: 7_200_000,
    });
    // The api reads the same settings (it reports the defaults to `updraft dags deploy`).
    const [, api] = Object.entries(resources(v.template, 'AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('UpdraftApi'),
    )!;
    expect(environmentOf(api)[ENV.settings]).toBe(env[ENV.settings]);
  });

  it('refuses a pool prop that is not a number of slots, naming it', () => {
    expect(() => new Updraft(v.stack, 'BadPools', { pools: { warehouse: 2.5 } })).toThrow(/pools\.warehouse/);
  });
});

describe('Updraft construct on an existing VPC and cluster, in private subnets', () => {
  let f: Synthesized;
  const clusterArn = 'arn:aws:ecs:eu-west-1:123456789012:cluster/shared';
  beforeAll(() => {
    f = synth({ console: false }, (stack) => {
      const vpc = Vpc.fromVpcAttributes(stack, 'Existing', {
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        publicSubnetIds: ['subnet-0a1b2c3d4e5f60701', 'subnet-0a1b2c3d4e5f60702'],
        privateSubnetIds: ['subnet-0a1b2c3d4e5f60703', 'subnet-0a1b2c3d4e5f60704'],
        publicSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60701', 'rtb-0a1b2c3d4e5f60701'],
        privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60702', 'rtb-0a1b2c3d4e5f60703'],
      });
      const cluster = Cluster.fromClusterAttributes(stack, 'Shared', {
        clusterName: 'shared',
        clusterArn,
        vpc,
      });
      return { fargate: { cluster, subnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS } } };
    });
  }, SYNTH_TIMEOUT_MS);

  it('creates neither VPC nor cluster, and runs tries in the private subnets without a public IP', () => {
    f.template.resourceCountIs('AWS::EC2::VPC', 0);
    f.template.resourceCountIs('AWS::ECS::Cluster', 0);
    f.template.resourceCountIs('Custom::VpcRestrictDefaultSG', 0);
    expect(f.findings).toEqual([]);
    const [, worker] = Object.entries(resources(f.template, 'AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('UpdraftWorker'),
    )!;
    const env = environmentOf(worker);
    expect(env[ENV.ecsCluster]).toBe(clusterArn);
    expect(env[ENV.ecsSubnets]).toBe('subnet-0a1b2c3d4e5f60703,subnet-0a1b2c3d4e5f60704');
    expect(env[ENV.ecsAssignPublicIp]).toBe('DISABLED');
    f.template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0a1b2c3d4e5f60718' });
    f.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ clusterArn: [clusterArn] }) }),
    });
  });
});
