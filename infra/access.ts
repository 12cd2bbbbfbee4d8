/**
 * Least-privilege grants: each function's role holds only the actions it calls, on the table and
 * its indexes, the bucket prefixes it touches, the queues it writes, and its schedule group. The
 * actions are the ones the adapters send (shared/adapters/*): a new SDK call there needs its grant
 * here, and the infra test names what each role may do.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IConstruct } from 'constructs';
import { BUCKET, type FunctionName, TABLE } from '../shared/resources.ts';
import { acknowledgeWildcard } from './nag.ts';

/** A function (or anything with a role) that grants are added to and findings acknowledged on. */
export type Grantee = IGrantable & IConstruct;

type Prefix = keyof typeof BUCKET.prefixes;

/** What a function does under each prefix: GetObject, PutObject, ListBucket (a missing key is then a 404, not a 403). */
export interface BucketAccess {
  get: readonly Prefix[];
  put: readonly Prefix[];
  list: readonly Prefix[];
}

/**
 * Per function, the prefixes its adapters read and write (functions/<name>/deps.ts and
 * functions/common/aws-deps.ts): bundles are read to run tasks and callbacks; the worker writes
 * logs and large results and reads upstream results; the dag-processor reads DAG files and writes
 * bundles; the API reads logs (listing a try's chunks) and results. task-events touches no object.
 */
const BUCKET_ACCESS: Record<FunctionName | 'api', BucketAccess> = {
  scheduler: { get: ['bundles'], put: [], list: [] },
  worker: { get: ['bundles', 'results'], put: ['logs', 'results'], list: [] },
  'dag-processor': { get: ['dags'], put: ['bundles'], list: ['dags'] },
  'task-events': { get: [], put: [], list: [] },
  api: { get: ['logs', 'results'], put: [], list: ['logs'] },
};

/** The DynamoDB calls of the store: items by key and in transactions, and queries on the indexes. */
const TABLE_READ = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:Query',
];
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

function grantTable(grantee: IGrantable, table: ITable, mode: 'read' | 'readWrite'): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: mode === 'read' ? TABLE_READ : [...TABLE_READ, ...TABLE_WRITE],
      resources: [table.tableArn],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: TABLE.globalSecondaryIndexes.map((index) => `${table.tableArn}/index/${index.name}`),
    }),
  );
}

function grantBucket(grantee: Grantee, bucket: IBucket, access: BucketAccess): void {
  const objects = (prefixes: readonly Prefix[]) =>
    prefixes.map((p) => {
      const arn = bucket.arnForObjects(`${BUCKET.prefixes[p]}*`);
      acknowledgeWildcard(
        grantee,
        arn,
        `objects under ${BUCKET.prefixes[p]} only: keys are per DAG, run and try`,
      );
      return arn;
    });
  const add = (statement: PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
  if (access.get.length > 0)
    add(new PolicyStatement({ actions: ['s3:GetObject'], resources: objects(access.get) }));
  if (access.put.length > 0)
    add(new PolicyStatement({ actions: ['s3:PutObject'], resources: objects(access.put) }));
  if (access.list.length > 0)
    add(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': access.list.map((p) => `${BUCKET.prefixes[p]}*`) } },
      }),
    );
  // A bucket encrypted with a customer key (an existing bucket) needs the key too.
  if (bucket.encryptionKey) {
    if (access.get.length > 0) bucket.encryptionKey.grantDecrypt(grantee);
    if (access.put.length > 0) bucket.encryptionKey.grantEncrypt(grantee);
  }
}

/** Create, update and delete the DAGs' wake-ups in the group, and hand them the schedules role only. */
function grantSchedules(grantee: Grantee, group: IScheduleGroup, scheduleRole: IRole): void {
  const schedules = Stack.of(group).formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `${group.scheduleGroupName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
      resources: [schedules],
    }),
  );
  acknowledgeWildcard(
    grantee,
    schedules,
    "schedules in Updraft's group only: one wake-up per DAG, named after it",
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [scheduleRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  );
}

export { BUCKET_ACCESS, grantBucket, grantSchedules, grantTable, TABLE_READ, TABLE_WRITE };
