/**
 * `Updraft`: the whole orchestrator in one construct. Compose it into any CDK stack:
 *
 * ```ts
 * new Updraft(stack, 'Updraft', { parallelism: 64, worker: { maxConcurrency: 50 } });
 * ```
 *
 * Table, queues and bucket come from shared/resources.ts (the local stack's source too); each
 * function is granted only what its adapters call (access.ts). docs/deploy.md draws the picture.
 */
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type Bucket, EventType, type IBucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Schedule, ScheduleExpression, ScheduleGroup, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { SqsSendMessage } from 'aws-cdk-lib/aws-scheduler-targets';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { changedDagDefaults } from '../shared/core/dag-defaults.ts';
import { encode } from '../shared/messages.ts';
import {
  API_FUNCTION,
  BUCKET,
  ENV,
  type EnvKey,
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionDefinition,
  type FunctionName,
  QUEUES,
  type QueueId,
  SCHEDULES,
} from '../shared/resources.ts';
import { BUCKET_ACCESS, grantBucket, grantSchedules, grantTable } from './access.ts';
import { UpdraftApi } from './api.ts';
import { ConsoleSite } from './console-site.ts';
import { UpdraftFargate } from './fargate.ts';
import { createFunction } from './functions.ts';
import { UpdraftMonitoring } from './monitoring.ts';
import { acknowledge, acknowledgeCdkHandler } from './nag.ts';
import { UpdraftPools } from './pools/pools.ts';
import { type ResolvedProps, resolveProps, type UpdraftProps } from './props.ts';
import {
  createAccessLogsBucket,
  createBucket,
  createQueues,
  createTable,
  type QueuePair,
} from './storage.ts';

class Updraft extends Construct {
  readonly table: Table;
  readonly queues: Record<QueueId, QueuePair>;
  readonly bucket: IBucket;
  readonly functions: Record<FunctionName | 'api', NodejsFunction>;
  readonly scheduleGroup: ScheduleGroup;
  readonly scheduleRole: Role;
  readonly notificationsTopic: ITopic;
  readonly fargate: UpdraftFargate | null;
  readonly pools: UpdraftPools | null;
  readonly api: UpdraftApi;
  readonly console: ConsoleSite | null;
  readonly alarmTopic: ITopic;
  readonly monitoring: UpdraftMonitoring;
  readonly props: ResolvedProps;
  #accessLogs: Bucket | undefined;

  constructor(scope: Construct, id: string, props: UpdraftProps = {}) {
    super(scope, id);
    const p = resolveProps(props);
    this.props = p;
    const retain = { removalPolicy: p.removalPolicy };

    this.table = createTable(this, { ...retain, deletionProtection: p.deletionProtection });
    this.queues = createQueues(this);
    this.bucket = p.dagBucket ?? createBucket(this, { ...retain, accessLogs: this.#accessLogsBucket() });
    this.notificationsTopic =
      p.notificationsTopic ??
      new Topic(this, 'Notifications', {
        displayName: 'Updraft task and run failures',
        enforceSSL: true,
        // The AWS managed key: the functions publish with their roles, no key policy to keep.
        masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      });

    // EventBridge Scheduler: the group holding each DAG's at() wake-up, and the role they run as
    // (it may send to the scheduler-events queue and, for undeliverable wake-ups, to its DLQ).
    const events = this.queues.schedulerEvents;
    this.scheduleGroup = new ScheduleGroup(this, 'Schedules', {});
    this.scheduleRole = new Role(this, 'ScheduleRole', {
      description:
        'EventBridge Scheduler: deliver Updraft wake-ups and the sweep to the scheduler-events queue',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.scheduleRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [events.queue.queueArn, events.dlq.queueArn],
      }),
    );

    const dagDefaults = changedDagDefaults(p.dagDefaults);
    const env: Partial<Record<EnvKey, string>> = {
      tableName: this.table.tableName,
      dispatchQueueUrl: this.queues.dispatch.queue.queueUrl,
      schedulerEventsQueueUrl: events.queue.queueUrl,
      bucketName: this.bucket.bucketName,
      scheduleGroup: this.scheduleGroup.scheduleGroupName,
      scheduleTargetArn: events.queue.queueArn,
      scheduleRoleArn: this.scheduleRole.roleArn,
      scheduleDlqArn: events.dlq.queueArn,
      notificationsTopicArn: this.notificationsTopic.topicArn,
      apiAuthMode: p.apiAuth.mode,
      counterShards: String(p.counterShards),
      settings: JSON.stringify({
        parallelism: p.parallelism,
        ...(p.worker.maxConcurrency !== null && {
          executorCapacity: { lambda: p.worker.maxConcurrency, fargate: null },
        }),
        ...(!p.worker.scheduleAfterTaskExecution && { scheduleAfterTaskExecution: false }),
        // Only what differs from Airflow's: the dag-processor compiles with these, the api reports them.
        ...(Object.keys(dagDefaults).length > 0 && { dagDefaults }),
      }),
    };

    const make = (
      name: FunctionName | 'api',
      def: FunctionDefinition,
      extra: { memoryMiB?: number; timeout?: Duration } = {},
    ) =>
      createFunction(this, idOf(name), def, {
        env,
        logRetention: p.logRetention,
        removalPolicy: p.removalPolicy,
        ...extra,
      });
    const functions = {} as Record<FunctionName | 'api', NodejsFunction>;
    for (const name of FUNCTION_NAMES) {
      functions[name] = make(
        name,
        FUNCTIONS[name],
        name === 'worker'
          ? { memoryMiB: p.worker.memoryMiB, timeout: p.worker.timeout }
          : name === 'scheduler'
            ? { memoryMiB: p.scheduler.memoryMiB }
            : {},
      );
    }
    functions.api = make('api', API_FUNCTION);
    this.functions = functions;

    // Fargate: the worker launches tries, task-events ends them.
    this.fargate =
      p.fargate === false
        ? null
        : new UpdraftFargate(this, 'Fargate', {
            config: p.fargate,
            logRetention: p.logRetention,
            removalPolicy: p.removalPolicy,
            taskEvents: functions['task-events'],
            deadLetterQueue: events.dlq,
          });
    if (this.fargate) {
      for (const [key, value] of Object.entries(this.fargate.env())) {
        functions.worker.addEnvironment(ENV[key as EnvKey], value);
      }
      this.fargate.grantLaunch(functions.worker);
    }

    // Grants, from what each definition says it uses and what its adapters call.
    const definitions: [FunctionName | 'api', FunctionDefinition][] = [
      ...FUNCTION_NAMES.map((n) => [n, FUNCTIONS[n]] as [FunctionName, FunctionDefinition]),
      ['api', API_FUNCTION],
    ];
    for (const [name, def] of definitions) {
      const fn = functions[name];
      grantTable(fn, this.table, def.uses.table);
      for (const q of def.uses.queues) this.queues[q].queue.grantSendMessages(fn);
      if (def.uses.bucket !== 'none') grantBucket(fn, this.bucket, BUCKET_ACCESS[name]);
      if (def.uses.schedules) grantSchedules(fn, this.scheduleGroup, this.scheduleRole);
      if (def.uses.notifications) this.#grantPublishNotifications(fn, p);
    }
    for (const target of p.worker.invokableFunctions) target.grantInvoke(functions.worker);

    // Queues → their consumers, with partial batch responses.
    for (const id of Object.keys(QUEUES) as QueueId[]) {
      const q = QUEUES[id];
      const consumer = functions[q.consumer];
      consumer.addEventSource(
        new SqsEventSource(this.queues[id].queue, {
          batchSize: q.batchSize,
          ...(q.maxBatchingWindowSeconds > 0 && {
            maxBatchingWindow: Duration.seconds(q.maxBatchingWindowSeconds),
          }),
          maxConcurrency: id === 'dispatch' ? dispatchConcurrency(p) : q.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
    }

    // DAG files created or removed under dags/ → the dag-processor.
    for (const eventType of BUCKET.dagEvents) {
      this.bucket.addEventNotification(
        eventType === 's3:ObjectCreated:*' ? EventType.OBJECT_CREATED : EventType.OBJECT_REMOVED,
        new LambdaDestination(functions['dag-processor']),
        { prefix: BUCKET.prefixes.dags },
      );
    }

    const notificationsHandler = Stack.of(this).node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER);
    if (notificationsHandler) acknowledgeCdkHandler(notificationsHandler, 'sets the bucket notifications');

    // Pools of the props, applied at each deployment.
    this.pools =
      Object.keys(p.pools).length > 0
        ? new UpdraftPools(this, 'Pools', {
            pools: p.pools,
            table: this.table,
            schedulerEvents: events.queue,
            env,
            logRetention: p.logRetention,
            removalPolicy: p.removalPolicy,
          })
        : null;

    // The HTTP API, and the console in front of it (its config.json names the API).
    this.console = p.console
      ? new ConsoleSite(this, 'Console', {
          accessLogs: this.#accessLogsBucket(),
          removalPolicy: p.removalPolicy,
        })
      : null;
    this.api = new UpdraftApi(this, 'HttpApi', {
      handler: functions.api,
      auth: p.apiAuth,
      allowOrigins: this.console ? [this.console.origin] : [],
      logRetention: p.logRetention,
      removalPolicy: p.removalPolicy,
    });
    if (this.console) {
      const upload = this.console.deploy({ apiUrl: this.api.url, authMode: p.apiAuth.mode });
      acknowledgeCdkHandler(upload.handlerRole.node.scope!, 'copies the console into its bucket');
    }

    // Alarms and the dashboard.
    this.alarmTopic = p.alarmTopic ?? this.#createAlarmTopic();
    this.monitoring = new UpdraftMonitoring(this, 'Monitoring', {
      functions,
      queues: this.queues,
      schedulerLogs: functions.scheduler.logGroup,
      alarmTopic: this.alarmTopic,
    });

    new CfnOutput(this, 'ApiUrl', { description: 'The HTTP API (docs/api.md)', value: this.api.url });
    if (this.console)
      new CfnOutput(this, 'ConsoleUrl', { description: 'The console', value: this.console.url });
    new CfnOutput(this, 'BucketName', {
      description: 'DAG files go under dags/ (updraft dags deploy, or aws s3 cp)',
      value: this.bucket.bucketName,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe to get the alarms',
      value: this.alarmTopic.topicArn,
    });

    // The sweep: every minute, through the scheduler-events queue like every wake-up.
    new Schedule(this, 'Sweep', {
      description: 'Updraft sweep: due retries, silent heartbeats, stuck dispatches, slot counters',
      scheduleGroup: this.scheduleGroup,
      schedule: ScheduleExpression.rate(Duration.minutes(SCHEDULES.sweep.rateMinutes)),
      target: new SqsSendMessage(events.queue, {
        role: this.scheduleRole,
        input: ScheduleTargetInput.fromText(encode('schedule-wakeup', SCHEDULES.sweep.message)),
        deadLetterQueue: events.dlq,
        retryAttempts: SCHEDULES.retry.maximumRetryAttempts!,
        maxEventAge: Duration.seconds(SCHEDULES.retry.maximumEventAgeSeconds!),
      }),
    });
  }

  /**
   * Lets IAM principals call the API (IAM auth mode): `execute-api:Invoke` on its routes under
   * `/api/`. The CLI and scripts sign their requests with SigV4.
   */
  grantApiAccess(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [this.api.httpApi.arnForExecuteApi('*', '/api/*', '*')],
      }),
    );
  }

  /**
   * `sns:Publish` on the notifications topic. The topic Updraft creates is under the AWS managed
   * key `alias/aws/sns`, whose key policy already lets this account's principals use it through
   * SNS: no KMS permission is needed, and `grantPublish` would add one on every key of the account
   * (`key/*`, conditioned on the alias; feature flag `applyImportedAliasPermissionsToPrincipal`).
   * A topic of the props gets `grantPublish`, its own key's grant included.
   */
  #grantPublishNotifications(fn: NodejsFunction, p: ResolvedProps): void {
    if (p.notificationsTopic) {
      this.notificationsTopic.grantPublish(fn);
      return;
    }
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [this.notificationsTopic.topicArn] }),
    );
  }

  /** Server access logs of Updraft's buckets and CloudFront, created when something logs. */
  #accessLogsBucket(): Bucket {
    this.#accessLogs ??= createAccessLogsBucket(this, this.props.removalPolicy);
    return this.#accessLogs;
  }

  #createAlarmTopic(): Topic {
    const topic = new Topic(this, 'Alarms', { displayName: 'Updraft alarms', enforceSSL: true });
    acknowledge(
      topic,
      'AwsSolutions-SNS2',
      'CloudWatch alarms cannot publish to a topic under the AWS managed key, and a customer key is billed while idle; alarms carry no data',
    );
    return topic;
  }
}

/** The id of CDK's singleton custom-resource handler that configures S3 notifications. */
const BUCKET_NOTIFICATIONS_HANDLER = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** Concurrent worker invocations: enough for the worker concurrency, within Lambda's 2–1000. */
function dispatchConcurrency(p: ResolvedProps): number {
  if (p.worker.maxConcurrency === null) return QUEUES.dispatch.maxConcurrency;
  return Math.min(1000, Math.max(2, p.worker.maxConcurrency));
}

function idOf(name: FunctionName | 'api'): string {
  return name
    .split('-')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

export { Updraft };
